from study.llm.client import llm_configured


def ai(request) -> dict:
    return {"llm_enabled": llm_configured()}
