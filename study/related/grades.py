"""The grade a question earns from how many exam rounds ask it (or its like)."""

GRADE_REGULAR = "단골"
GRADE_OFTEN = "잘 나오는 반복 출제"
GRADE_REPEATED = "반복 출제"
GRADE_NEW = "신출"
GRADE_FREQUENT = "빈출"
GRADES = (GRADE_REGULAR, GRADE_OFTEN, GRADE_REPEATED, GRADE_NEW, GRADE_FREQUENT)


def grade_for(
    *, round_count: int, latest_year: int | None, recent_floor: int | None
) -> str:
    """Two rounds make 신출 when the latest is recent (at or after
    `recent_floor`, see selectors.related.recent_year_floor), else 빈출."""
    if round_count >= 7:
        return GRADE_REGULAR
    if round_count >= 5:
        return GRADE_OFTEN
    if round_count >= 3:
        return GRADE_REPEATED
    if round_count == 2:
        recent = (
            latest_year is not None
            and recent_floor is not None
            and latest_year >= recent_floor
        )
        return GRADE_NEW if recent else GRADE_FREQUENT
    return ""
