"""study_topic.bank_version: a new random value whenever the rounds, subjects,
numbers or figures of a topic's live questions change, set by triggers on
study_question in the same transaction (selectors.exam_spec.topic_bank caches
a topic's cells and paper under it).

A column of the database only, not of the model: no save of a Topic loaded
earlier can write an old value back. Random, not a counter: a value is never
reused, not after a rolled-back change, a restore or a cloned database."""

from django.db import migrations

# What the cells read (selectors.exam_spec.subject_cells): an update of any
# other column (explanations, relations, embeddings) changes no version.
CELL_COLUMNS = (
    "topic_id",
    "deleted_at",
    "exam_year",
    "exam_session",
    "subject",
    "number",
    "numbered_by_subject",
    "needs_figure",
    "figure",
)

CHANGED = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in CELL_COLUMNS)

FORWARD = f"""
ALTER TABLE study_topic
    ADD COLUMN bank_version uuid NOT NULL DEFAULT gen_random_uuid();

-- Inserted or deleted rows, once per statement (an import's bulk insert
-- renews its topics once).
CREATE FUNCTION study_topic_bank_renew_rows() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE study_topic SET bank_version = gen_random_uuid()
    WHERE id IN (SELECT DISTINCT topic_id FROM changed);
    RETURN NULL;
END $$;

-- An updated row whose cell columns changed (the trigger's WHEN).
CREATE FUNCTION study_topic_bank_renew_row() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE study_topic SET bank_version = gen_random_uuid()
    WHERE id IN (OLD.topic_id, NEW.topic_id);
    RETURN NULL;
END $$;

CREATE TRIGGER study_question_bank_insert AFTER INSERT ON study_question
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION study_topic_bank_renew_rows();
CREATE TRIGGER study_question_bank_delete AFTER DELETE ON study_question
    REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION study_topic_bank_renew_rows();
CREATE TRIGGER study_question_bank_update
    AFTER UPDATE OF {", ".join(CELL_COLUMNS)} ON study_question
    FOR EACH ROW WHEN ({CHANGED})
    EXECUTE FUNCTION study_topic_bank_renew_row();
"""

BACKWARD = """
DROP TRIGGER study_question_bank_update ON study_question;
DROP TRIGGER study_question_bank_delete ON study_question;
DROP TRIGGER study_question_bank_insert ON study_question;
DROP FUNCTION study_topic_bank_renew_row();
DROP FUNCTION study_topic_bank_renew_rows();
ALTER TABLE study_topic DROP COLUMN bank_version;
"""


class Migration(migrations.Migration):
    dependencies = [("study", "0026_cover_quiz_start_reads")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
