"""`handlers.common.hint`: what to send instead, added to a refusal the error handler answers."""

from __future__ import annotations

import pytest

from bot.services.errors import DomainError, NotAllowed
from handlers.common import hint


def test_a_refusal_gets_the_hint_after_its_own_sentence() -> None:
    """The service's sentence first, then the hint; the original stays as the cause."""
    with pytest.raises(DomainError) as caught, hint("Please send it again, or /cancel."):
        raise NotAllowed("That is not yours.")
    assert str(caught.value) == "That is not yours.\nPlease send it again, or /cancel."
    assert isinstance(caught.value.__cause__, NotAllowed)
    with pytest.raises(DomainError, match=r"^Too long\. /cancel"), hint("/cancel", sep=" "):
        raise DomainError("Too long.")


def test_other_errors_and_success_pass_untouched() -> None:
    """Only a rule's refusal is a person's answer; a bug stays a bug."""
    with pytest.raises(KeyError), hint("Please send it again."):
        raise KeyError("x")
    with hint("Please send it again."):
        value = 1
    assert value == 1


def test_a_hint_keeps_what_a_refusal_does_next() -> None:
    """`hint` around `on_refusal` adds its sentence and keeps the refusal's state and draft."""
    from telegram.ext import ConversationHandler

    from handlers.common import Refusal, on_refusal

    with (
        pytest.raises(Refusal) as caught,
        hint("Send /newinvoice to try again."),
        on_refusal(ConversationHandler.END, drop="newinvoice"),
    ):
        raise DomainError("That invoice is paid.")
    assert str(caught.value) == "That invoice is paid.\nSend /newinvoice to try again."
    assert (caught.value.then, caught.value.drop) == (ConversationHandler.END, "newinvoice")
