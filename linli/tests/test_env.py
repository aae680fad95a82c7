"""The typed environment helpers fail loudly: a value that cannot be read stops the process
with ImproperlyConfigured, naming the variable, what it expects and what it got."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from linli.env import env_bool, env_int, env_list, env_url


def refusal(helper, name: str, *args, **kwargs) -> str:
    with pytest.raises(ImproperlyConfigured) as raised:
        helper(name, *args, **kwargs)
    return str(raised.value)


def test_a_number_that_is_not_one_names_the_variable_and_the_value(monkeypatch):
    monkeypatch.setenv("LINLI_API_TOKEN_DAYS", "abc")
    assert refusal(env_int, "LINLI_API_TOKEN_DAYS", 30) == (
        "LINLI_API_TOKEN_DAYS must be an integer, got 'abc'"
    )


def test_a_number_is_read_and_an_empty_one_is_the_default(monkeypatch):
    monkeypatch.setenv("LINLI_API_TOKEN_DAYS", " 7 ")
    assert env_int("LINLI_API_TOKEN_DAYS", 30) == 7
    monkeypatch.setenv("LINLI_API_TOKEN_DAYS", "  ")
    assert env_int("LINLI_API_TOKEN_DAYS", 30) == 30
    monkeypatch.delenv("LINLI_API_TOKEN_DAYS")
    assert env_int("LINLI_API_TOKEN_DAYS", 30) == 30


def test_a_boolean_that_is_not_one_names_the_variable_and_the_value(monkeypatch):
    monkeypatch.setenv("LINLI_HTTPS", "maybe")
    assert refusal(env_bool, "LINLI_HTTPS", False) == (
        "LINLI_HTTPS must be a boolean (1/0, true/false), got 'maybe'"
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("TRUE", True), (" yes ", True), ("on", True)]
    + [("0", False), ("False", False), ("no", False), ("off", False), ("", False)],
)
def test_a_boolean_is_read_in_its_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("LINLI_HTTPS", raw)
    assert env_bool("LINLI_HTTPS", not expected) is expected


def test_a_list_drops_blanks_and_its_default_is_only_for_an_unset_variable(monkeypatch):
    monkeypatch.setenv("LINLI_ALLOWED_HOSTS", " linli.example.org, ,10.0.0.5 ,")
    assert env_list("LINLI_ALLOWED_HOSTS", ["localhost"]) == ["linli.example.org", "10.0.0.5"]
    monkeypatch.setenv("LINLI_ALLOWED_HOSTS", "")
    assert env_list("LINLI_ALLOWED_HOSTS", ["localhost"]) == []
    monkeypatch.delenv("LINLI_ALLOWED_HOSTS")
    assert env_list("LINLI_ALLOWED_HOSTS", ["localhost"]) == ["localhost"]


@pytest.mark.parametrize(
    "raw",
    [
        "qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
        "ftp://qyapi.weixin.qq.com/",
        "https://",
        "https://[::1/send",
        "https://gateway.example.org:port/send",
    ],
)
def test_an_address_that_is_not_a_web_url_names_the_variable_and_the_value(monkeypatch, raw):
    monkeypatch.setenv("LINLI_WECOM_WEBHOOK_URL", raw)
    assert refusal(env_url, "LINLI_WECOM_WEBHOOK_URL") == (
        "LINLI_WECOM_WEBHOOK_URL must be a URL starting with http:// or https:// and naming "
        f"a host, got {raw!r}"
    )


def test_an_address_names_the_schemes_it_accepts(monkeypatch):
    monkeypatch.setenv("LINLI_REDIS_URL", "http://127.0.0.1:6379/1")
    assert refusal(env_url, "LINLI_REDIS_URL", schemes=("redis", "rediss")) == (
        "LINLI_REDIS_URL must be a URL starting with redis:// or rediss:// and naming a host, "
        "got 'http://127.0.0.1:6379/1'"
    )


def test_an_address_is_read_and_an_unset_or_blank_one_is_the_default(monkeypatch):
    address = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"
    monkeypatch.setenv("LINLI_WECOM_WEBHOOK_URL", f" {address} ")
    assert env_url("LINLI_WECOM_WEBHOOK_URL") == address
    monkeypatch.setenv("LINLI_WECOM_WEBHOOK_URL", " ")
    assert env_url("LINLI_WECOM_WEBHOOK_URL") == ""
    monkeypatch.delenv("LINLI_WECOM_WEBHOOK_URL")
    assert env_url("LINLI_WECOM_WEBHOOK_URL") == ""
