from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from publishing.models import OutboxEvent, OutboxEventQuerySet
from publishing.services import outbox_events_replay, outbox_events_retry
from study.numbers import is_ascii_digits

BOTH_PLACES = [admin.ActionLocation.CHANGE_LIST, admin.ActionLocation.CHANGE_FORM]

if TYPE_CHECKING:
    from django.contrib.admin.options import Action
    from django.db.models import QuerySet
    from django.http import HttpRequest
    from django_stubs_ext import StrOrPromise


class DeliveredFilter(admin.SimpleListFilter):
    title = _("전달 여부")
    parameter_name = "delivered"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> tuple[tuple[str, StrOrPromise], ...]:
        return (("yes", _("전달됨")), ("no", _("미전달")))

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[OutboxEvent]
    ) -> QuerySet[OutboxEvent]:
        if self.value() == "yes":
            return queryset.filter(delivered_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(delivered_at__isnull=True)
        return queryset


class DeadFilter(admin.SimpleListFilter):
    title = _("포기(dead letter)")
    parameter_name = "dead"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> tuple[tuple[str, StrOrPromise], ...]:
        return (("yes", _("포기됨")), ("no", _("포기 안 됨")))

    # The changelist hands over the model's own queryset class (the default
    # manager's); the stubs declare the base QuerySet.
    def queryset(  # type: ignore[override]
        self, request: HttpRequest, queryset: OutboxEventQuerySet
    ) -> OutboxEventQuerySet:
        if self.value() == "yes":
            return queryset.dead()
        if self.value() == "no":
            return queryset.filter(dead_at__isnull=True)
        return queryset


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "aggregate_id",
        "seq",
        "kind",
        "state",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "short_error",
    )
    list_filter = ("kind", DeliveredFilter, DeadFilter)
    search_fields = ("=aggregate_id",)
    readonly_fields = [f.name for f in OutboxEvent._meta.fields]
    actions = ("retry", "replay")
    list_per_page = 50

    @admin.display(description=_("상태"))
    def state(self, obj: OutboxEvent) -> StrOrPromise:
        if obj.delivered_at:
            return _("전달됨")
        if obj.dead_at:
            return _("포기됨")
        return _("대기") if not obj.attempts else _("재시도 대기")

    @admin.display(description=_("마지막 오류"))
    def short_error(self, obj: OutboxEvent) -> str:
        return obj.last_error[:80]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[OutboxEvent], search_term: str
    ) -> tuple[QuerySet[OutboxEvent], bool]:
        # Only a question id is searchable; other text would be a type error.
        if search_term and not is_ascii_digits(search_term.strip()):
            return queryset.none(), False
        return super().get_search_results(request, queryset, search_term)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: OutboxEvent | None = None
    ) -> bool:
        # Deleting a dead event unblocks its question's later events; deleting
        # anything else would silently lose a change.
        if obj is not None and not obj.is_dead:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(
        self,
        request: HttpRequest,
        action_location: admin.ActionLocation = admin.ActionLocation.CHANGE_LIST,
    ) -> dict[str, Action | None]:
        actions = super().get_actions(request, action_location=action_location)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(
        description=_("선택한 미전달 이벤트 다시 시도"),
        permissions=["change"],
        location=BOTH_PLACES,
    )
    def retry(self, request: HttpRequest, queryset: QuerySet[OutboxEvent]) -> None:
        count = outbox_events_retry(events=queryset)
        self.message_user(
            request,
            ngettext(
                "%(n)d개 이벤트를 다시 시도합니다.",
                "%(n)d개 이벤트를 다시 시도합니다.",
                count,
            )
            % {"n": count},
        )

    @admin.action(
        description=_("선택한 이벤트의 문항 현재 상태를 다시 발행"),
        permissions=["change"],
        location=BOTH_PLACES,
    )
    def replay(self, request: HttpRequest, queryset: QuerySet[OutboxEvent]) -> None:
        count = outbox_events_replay(events=queryset)
        if count:
            self.message_user(
                request,
                ngettext(
                    "새 이벤트 %(n)d개를 발행 대기열에 넣었습니다.",
                    "새 이벤트 %(n)d개를 발행 대기열에 넣었습니다.",
                    count,
                )
                % {"n": count},
            )
        else:
            self.message_user(
                request,
                _("발행이 꺼져 있어 아무것도 넣지 않았습니다."),
                messages.WARNING,
            )
