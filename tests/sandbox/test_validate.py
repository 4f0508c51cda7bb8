"""Each rule of the Bot API validator and of the Telegram HTML parser, both ways."""

from __future__ import annotations

from typing import Any

import pytest

from bot.devtools.sandbox.telegram_html import parse_html, parse_telegram_html, utf16_len
from bot.devtools.sandbox.validate import decode_params, load_spec, validate_call, validate_object

SPEC = load_spec()


def check(method: str, files: set[str] | None = None, **params: Any) -> list[str]:
    """Violations of one call."""
    return validate_call(SPEC, method, params, files or set())


def keyboard(*buttons: dict[str, Any]) -> dict[str, Any]:
    """An inline keyboard with one row."""
    return {"inline_keyboard": [list(buttons)]}


def only(violations: list[str], start: str) -> None:
    """Exactly one violation, starting with `start`."""
    assert len(violations) == 1, violations
    assert violations[0].startswith(start), violations


# --- methods, parameters, types -------------------------------------------------------------


def test_valid_send_message() -> None:
    assert check("sendMessage", chat_id=1, text="hi") == []
    assert check("sendMessage", chat_id="@channel", text="hi", disable_notification=True) == []


def test_method_names_ignore_case_and_unknown_methods_are_reported() -> None:
    assert check("SENDMESSAGE", chat_id=1, text="hi") == []
    only(check("sendMessages", chat_id=1, text="hi"), "unknown method 'sendMessages'")


def test_unknown_parameter_is_strict_only() -> None:
    only(check("sendMessage", chat_id=1, text="hi", colour="red"), "unknown parameter (colour")
    params = {"chat_id": 1, "text": "hi", "colour": "red"}
    assert validate_call(SPEC, "sendMessage", params, set(), strict=False) == []


def test_parse_mode_filled_in_by_ptb_defaults_is_tolerated_on_markup_edits_only() -> None:
    assert check("editMessageReplyMarkup", chat_id=1, message_id=2, parse_mode="HTML") == []
    only(check("editMessageReplyMarkup", chat_id=1, message_id=2, bogus=1), "unknown parameter")
    only(check("sendSticker", chat_id=1, sticker="x", parse_mode="HTML"), "unknown parameter")


def test_missing_required_parameters() -> None:
    only(check("sendMessage", text="hi"), "parameter chat_id is required")
    only(check("sendMessage", chat_id=1), "message text is empty")
    only(check("deleteMessage", chat_id=1), "parameter message_id is required")


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("sendMessage", {"chat_id": [1], "text": "hi"}),
        ("sendMessage", {"chat_id": 1, "text": 5}),
        ("sendMessage", {"chat_id": 1, "text": "hi", "disable_notification": "yes"}),
        ("deleteMessage", {"chat_id": 1, "message_id": True}),
        ("deleteMessage", {"chat_id": 1, "message_id": 1.5}),
        ("getUpdates", {"allowed_updates": ["message", 3]}),
        ("getUpdates", {"allowed_updates": "message"}),
    ],
)
def test_wrong_types(method: str, params: dict[str, Any]) -> None:
    only(validate_call(SPEC, method, params, set()), "wrong type")


def test_float_accepts_integers() -> None:
    location = {"chat_id": 1, "latitude": 51, "longitude": -0.12}
    assert check("sendLocation", **location) == []


def test_nested_objects_are_checked_recursively() -> None:
    good = keyboard({"text": "A", "callback_data": "a"}, {"text": "B", "url": "https://x.y"})
    assert check("sendMessage", chat_id=1, text="hi", reply_markup=good) == []
    unknown = keyboard({"text": "A", "callback_data": "a", "colour": "red"})
    only(
        check("sendMessage", chat_id=1, text="hi", reply_markup=unknown),
        "unknown parameter (reply_markup.inline_keyboard[0][0].colour",
    )
    missing = keyboard({"callback_data": "a"})
    only(
        check("sendMessage", chat_id=1, text="hi", reply_markup=missing),
        "parameter reply_markup.inline_keyboard[0][0].text is required",
    )
    flat = {"inline_keyboard": [{"text": "A", "callback_data": "a"}]}
    only(check("sendMessage", chat_id=1, text="hi", reply_markup=flat), "wrong type")


def test_abstract_types_are_discriminated_by_their_type_field() -> None:
    for scope in (
        {"type": "default"},
        {"type": "all_private_chats"},
        {"type": "chat", "chat_id": 5},
    ):
        assert check("deleteMyCommands", scope=scope) == [], scope
    only(check("deleteMyCommands", scope={"type": "chat"}), "parameter scope.chat_id is required")
    only(check("deleteMyCommands", scope={"type": "everyone"}), "wrong value (scope.type")
    only(
        check("deleteMyCommands", scope={"type": "default", "chat_id": 5}),
        "unknown parameter (scope.chat_id",
    )


def test_inline_query_results() -> None:
    content = {"message_text": "<b>Acme</b>", "parse_mode": "HTML"}
    article = {"type": "article", "id": "1", "title": "Acme", "input_message_content": content}
    photo = {
        "type": "photo",
        "id": "2",
        "photo_url": "https://x/p.jpg",
        "thumbnail_url": "https://x/t.jpg",
    }
    cached = {"type": "photo", "id": "3", "photo_file_id": "AgAC"}
    assert check("answerInlineQuery", inline_query_id="9", results=[article, photo, cached]) == []
    only(
        check("answerInlineQuery", inline_query_id="9", results=[{**article, "type": "articel"}]),
        "wrong value (results[0].type",
    )
    bad_text = {
        **article,
        "input_message_content": {"message_text": "a < b", "parse_mode": "HTML"},
    }
    only(
        check("answerInlineQuery", inline_query_id="9", results=[bad_text]),
        "can't parse entities",
    )


def test_input_files() -> None:
    assert check("sendDocument", {"document"}, chat_id=1) == []
    assert check("sendDocument", {"doc1"}, chat_id=1, document="attach://doc1") == []
    assert check("sendDocument", chat_id=1, document="BQACAgIAAxkBAAI") == []
    only(check("sendDocument", chat_id=1), "parameter document is required")
    only(check("sendDocument", {"chat_id"}, document="BQAC"), "wrong type (chat_id: a file")
    thumbnail = {"chat_id": 1, "document": "BQAC", "thumbnail": "attach://missing"}
    only(validate_call(SPEC, "sendDocument", thumbnail, set()), "wrong type (thumbnail")


# --- documented limits ----------------------------------------------------------------------


def test_text_length_is_counted_after_parsing_in_utf16_units() -> None:
    assert check("sendMessage", chat_id=1, text="x" * 4096) == []
    only(check("sendMessage", chat_id=1, text="x" * 4097), "message is too long")
    tagged = "<b>" + "x" * 4096 + "</b>"
    assert check("sendMessage", chat_id=1, text=tagged, parse_mode="HTML") == []
    only(check("sendMessage", chat_id=1, text="😀" * 2049), "message is too long")
    only(check("editMessageText", chat_id=1, message_id=2, text="x" * 4097), "message is too long")


def test_text_must_not_be_empty_after_parsing() -> None:
    only(check("sendMessage", chat_id=1, text=""), "message text is empty")
    only(check("sendMessage", chat_id=1, text=" \n "), "message text is empty")
    only(
        check("sendMessage", chat_id=1, text="<b> </b>", parse_mode="HTML"),
        "message text is empty",
    )


def test_caption_limit() -> None:
    assert check("sendDocument", chat_id=1, document="BQAC", caption="") == []
    assert check("sendDocument", chat_id=1, document="BQAC", caption="x" * 1024) == []
    only(
        check("sendPhoto", chat_id=1, photo="AgAC", caption="x" * 1025),
        "message caption is too long",
    )
    only(
        check("sendPhoto", chat_id=1, photo="AgAC", caption="<i>x", parse_mode="HTML"),
        "can't parse entities",
    )


def test_callback_data_is_1_to_64_bytes() -> None:
    def send(data: str) -> list[str]:
        button = {"text": "A", "callback_data": data}
        return check("sendMessage", chat_id=1, text="hi", reply_markup=keyboard(button))

    assert send("x" * 64) == []
    only(send("x" * 65), "BUTTON_DATA_INVALID")
    only(send("€" * 22), "BUTTON_DATA_INVALID")  # 22 characters, 66 bytes
    only(send(""), "BUTTON_DATA_INVALID")


def test_button_needs_exactly_one_action() -> None:
    def send(button: dict[str, Any]) -> list[str]:
        return check("sendMessage", chat_id=1, text="hi", reply_markup=keyboard(button))

    only(send({"text": "A"}), "BUTTON_TYPE_INVALID")
    only(send({"text": "A", "callback_data": "a", "url": "https://x.y"}), "BUTTON_TYPE_INVALID")
    assert send({"text": "A", "switch_inline_query_current_chat": "", "style": "danger"}) == []


def test_parse_mode_values() -> None:
    assert check("sendMessage", chat_id=1, text="<b>a</b>", parse_mode="HTML") == []
    for mode in ("MarkdownV2", "Markdown"):  # not parsed: the raw text is the plain text
        assert check("sendMessage", chat_id=1, text="*a* < b", parse_mode=mode) == []
    only(check("sendMessage", chat_id=1, text="hi", parse_mode="html"), "unsupported parse_mode")


def test_answer_callback_query_text_limit() -> None:
    assert check("answerCallbackQuery", callback_query_id="1", text="x" * 200) == []
    only(check("answerCallbackQuery", callback_query_id="1", text="x" * 201), "MESSAGE_TOO_LONG")


def test_at_most_50_inline_results() -> None:
    def results(count: int) -> list[dict[str, Any]]:
        content = {"message_text": "x"}
        return [
            {"type": "article", "id": str(i), "title": "t", "input_message_content": content}
            for i in range(count)
        ]

    assert check("answerInlineQuery", inline_query_id="1", results=results(50)) == []
    only(check("answerInlineQuery", inline_query_id="1", results=results(51)), "RESULTS_TOO_MUCH")


def test_bot_commands() -> None:
    def commands(command: str, description: str) -> list[str]:
        return check("setMyCommands", commands=[{"command": command, "description": description}])

    assert commands("start", "Start") == []
    assert commands("a" * 32, "d" * 256) == []
    only(commands("Start", "Start"), "BOT_COMMAND_INVALID")
    only(commands("/start", "Start"), "BOT_COMMAND_INVALID")
    only(commands("a" * 33, "Start"), "BOT_COMMAND_INVALID")
    only(commands("start", ""), "BOT_COMMAND_DESCRIPTION_INVALID")
    only(commands("start", "d" * 257), "BOT_COMMAND_DESCRIPTION_INVALID")


# --- form decoding --------------------------------------------------------------------------


def test_form_values_are_decoded_by_declared_type() -> None:
    raw = {
        "chat_id": "123",
        "text": "123",
        "disable_notification": "true",
        "reply_markup": '{"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}',
        "colour": "red",
    }
    decoded = decode_params(SPEC, "sendMessage", raw)
    assert decoded["chat_id"] == 123 and decoded["text"] == "123"
    assert decoded["disable_notification"] is True
    assert decoded["reply_markup"]["inline_keyboard"][0][0]["text"] == "A"
    assert decoded["colour"] == "red"
    assert decode_params(SPEC, "sendMessage", {"chat_id": "@chan"})["chat_id"] == "@chan"
    document = decode_params(SPEC, "sendDocument", {"document": "attach://f", "caption": "1"})
    assert document == {"document": "attach://f", "caption": "1"}
    assert decode_params(SPEC, "getUpdates", {"allowed_updates": '["message"]'}) == {
        "allowed_updates": ["message"]
    }


def test_validate_object_checks_update_shapes() -> None:
    message = {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}, "text": "hi"}
    assert validate_object(SPEC, "Update", {"update_id": 1, "message": message}) == []
    assert validate_object(SPEC, "Update", {"update_id": 1, "message": {"text": "x"}}) == [
        "parameter message.chat is required",
        "parameter message.date is required",
        "parameter message.message_id is required",
    ]


# --- Telegram HTML --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "plain", "entity"),
    [
        ("<b>x</b>", "x", {"type": "bold"}),
        ("<strong>x</strong>", "x", {"type": "bold"}),
        ("<i>x</i>", "x", {"type": "italic"}),
        ("<em>x</em>", "x", {"type": "italic"}),
        ("<u>x</u>", "x", {"type": "underline"}),
        ("<ins>x</ins>", "x", {"type": "underline"}),
        ("<s>x</s>", "x", {"type": "strikethrough"}),
        ("<strike>x</strike>", "x", {"type": "strikethrough"}),
        ("<del>x</del>", "x", {"type": "strikethrough"}),
        ('<span class="tg-spoiler">x</span>', "x", {"type": "spoiler"}),
        ("<tg-spoiler>x</tg-spoiler>", "x", {"type": "spoiler"}),
        ('<a href="https://a.b/?q=1&amp;r=2">x</a>', "x", {"url": "https://a.b/?q=1&r=2"}),
        ('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>', "👍", {"type": "custom_emoji"}),
        ("<code>x</code>", "x", {"type": "code"}),
        ("<pre>x</pre>", "x", {"type": "pre"}),
        ('<pre><code class="language-python">x</code></pre>', "x", {"language": "python"}),
        ("<blockquote>x</blockquote>", "x", {"type": "blockquote"}),
        ("<blockquote expandable>x</blockquote>", "x", {"type": "expandable_blockquote"}),
        ("<B>x</B>", "x", {"type": "bold"}),
    ],
)
def test_supported_tags(html: str, plain: str, entity: dict[str, str]) -> None:
    parsed = parse_html(html)
    assert parsed.errors == [] and parsed.text == plain
    assert entity.items() <= parsed.entities[0].items()


def test_entities_text_and_offsets() -> None:
    text, errors = parse_telegram_html("&lt;&gt;&amp;&quot; &#65;&#x42; 1 > 0")
    assert (text, errors) == ('<>&" AB 1 > 0', [])
    parsed = parse_html("😀 <b>bold <i>both</i></b>")
    assert parsed.text == "😀 bold both"
    assert parsed.entities == [
        {"type": "bold", "offset": 3, "length": 9},
        {"type": "italic", "offset": 8, "length": 4},
    ]
    assert utf16_len("😀") == 2


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("<br>", 'Unsupported start tag "br" at byte offset 0'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("x</b>", 'Unexpected end tag "</b>" at byte offset 1'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
        ("<a>x</a>", 'Tag "a" must have a non-empty attribute "href"'),
        ("<tg-emoji>x</tg-emoji>", 'Tag "tg-emoji" must have attribute "emoji-id"'),
        ("&nbsp;", 'Unsupported HTML entity "&nbsp;" at byte offset 0'),
        ("Q&A", 'Character "&" at byte offset 1 must be escaped'),
        ("é &", 'Character "&" at byte offset 3 must be escaped'),
        ("&#0;", "Invalid numeric HTML entity"),
        ('<a href="x>y</a>', "Unclosed start tag"),
    ],
)
def test_html_errors(html: str, error: str) -> None:
    _, errors = parse_telegram_html(html)
    assert len(errors) == 1 and errors[0].startswith(error), errors
