from services.redact import redact


def test_emails_phones_and_personal_values_are_masked() -> None:
    raw = (
        '{"customer": {"name": "Li Wei", "phone": "+86 138 0013 8000"}, '
        '"text": "mail me at li.wei@example.com or 010-6552-9988"}'
    )
    shown = redact(raw)
    for secret in ("Li Wei", "138 0013", "li.wei@", "6552"):
        assert secret not in shown
    assert "l***@example.com" in shown
    assert '"name": "****ei"' in shown


def test_ordinary_text_is_left_alone() -> None:
    text = "complaint about outage in area 12 on 2026-01-05"
    assert redact(text) == text
