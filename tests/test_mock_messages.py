"""Why a mail check passed or failed reads as English: "no message in sent", "found a message in sent"."""

from guiagent.envs.mock.tasks.predicates import compile_predicate


def test_mail_check_sentences_have_the_right_article() -> None:
    check = compile_predicate({"mail_sent": {"subject": "Hi"}})
    ok, why = check({"mail": {"sent": []}})
    assert not ok and why.startswith("no message in sent (subject='Hi')") and "no a " not in why
    ok, why = check({"mail": {"sent": [{"subject": "Bye"}]}})
    assert not ok and why.startswith("no message in sent") and "closest: subject" in why
    ok, why = check({"mail": {"sent": [{"subject": "Hi"}]}})
    assert ok and why == "found a message in sent (subject='Hi')"
