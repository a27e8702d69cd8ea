from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from study.documents.extraction import DocumentRejected
from study.documents.forms import DocumentSearchForm, DocumentUploadForm
from study.documents.retrieval import DocumentFilters
from study.documents.search import document_search
from study.documents.selectors import topic_document_groups
from study.documents.services import (
    document_create,
    document_remove_from_topic,
    document_retry,
)
from study.models import Document, DocumentStatus
from study.selectors.topics import topic_get_editable, topic_get_for_user


@login_required
@require_http_methods(["GET", "POST"])
def document_list(request, topic_id: int):
    topic = topic_get_for_user(user=request.user, topic_id=topic_id)
    can_edit = topic.can_edit(request.user)
    form = DocumentUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        topic = topic_get_editable(user=request.user, topic_id=topic_id)
        if form.is_valid():
            data = form.cleaned_data
            try:
                document_create(
                    owner=request.user,
                    topics=[topic],
                    title=data["title"],
                    upload=data["file"],
                    material_type=data["material_type"],
                    jurisdiction=data["jurisdiction"],
                    year=data["year"],
                )
            except DocumentRejected as exc:
                form.add_error("file", str(exc))
            else:
                messages.success(
                    request, _("자료를 올렸습니다. 처리가 끝나면 ‘사용 가능’이 됩니다.")
                )
                return redirect("study:documents", topic_id=topic.pk)
    groups = topic_document_groups(topic=topic)
    context = {
        "topic": topic,
        "groups": groups,
        "form": form,
        "can_edit": can_edit,
        "processing": any(g.in_progress for g in groups),
    }
    if request.htmx and request.method == "GET":
        return render(request, "study/documents.html#document-rows", context)
    return render(request, "study/documents.html", context)


@login_required
@require_POST
def document_delete(request, topic_id: int, document_id: int):
    topic = topic_get_editable(user=request.user, topic_id=topic_id)
    document = get_object_or_404(Document, pk=document_id, topics=topic)
    document_remove_from_topic(document=document, topic=topic)
    messages.success(request, _("자료를 뺐습니다."))
    return redirect("study:documents", topic_id=topic.pk)


@login_required
@require_POST
def document_retry_view(request, topic_id: int, document_id: int):
    topic = topic_get_editable(user=request.user, topic_id=topic_id)
    document = get_object_or_404(Document, pk=document_id, topics=topic)
    document = document_retry(document=document)
    if document.status == DocumentStatus.PENDING:
        messages.success(request, _("자료를 다시 처리합니다."))
    else:
        messages.info(request, _("실패한 자료만 다시 처리할 수 있습니다."))
    return redirect("study:documents", topic_id=topic.pk)


@login_required
def document_search_page(request, topic_id: int):
    topic = topic_get_for_user(user=request.user, topic_id=topic_id)
    form = DocumentSearchForm(request.GET or None)
    context = {"topic": topic, "form": form, "results": None, "variants": []}
    if form.is_valid() and form.cleaned_data["q"].strip():
        data = form.cleaned_data
        filters = DocumentFilters(
            material_type=data["material_type"] or "",
            jurisdiction=(data["jurisdiction"] or "").strip(),
            year=data["year"],
        )
        found = document_search(
            topic_id=topic.pk,
            query=data["q"].strip(),
            filters=filters,
            user=request.user,
        )
        context.update(
            results=found.results, variants=found.variants[1:], notice=found.notice
        )
    return render(request, "study/document_search.html", context)
