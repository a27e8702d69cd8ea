"""What study announces when content that may leave the site changes.

Direction: publishing depends on study, never the reverse. Study's services
send these signals inside the transaction of the change; publishing connects
its receivers in PublishingConfig.ready (publishing/receivers.py) and writes
its outbox events there, synchronously, so the change and its events commit
together or not at all. Study imports nothing from publishing: without the
publishing app installed the signals reach no one.

Each signal says what happened, not what to do about it; the receivers decide
(they do nothing while STUDY_PUBLISH_ENABLED is false).
"""

from django.dispatch import Signal

# question=: created, edited, soft-deleted or restored.
question_changed = Signal()
# questions=: many written at once (an import).
questions_changed = Signal()
# question=: its AI explanation became ready.
explanation_ready = Signal()
# topic=: its owner marked or unmarked it for publishing.
topic_publication_changed = Signal()
