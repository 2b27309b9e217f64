"""Secrets kept out of everything the harness writes or shows: `redact(obj)` before a spec is persisted.

Three kinds of secret are found:
- the value of a secret-looking key, at any depth: `api_key`, `apiKey`, `x-api-key`, `hf_token`,
  `access_token`, `secret`, `client_secret`, `password`, `auth`, `Authorization`, `cookie`, `credentials`
  (a tokenizer's `eos_token`, counts such as `max_tokens` and a bare `key` are not secrets; only string
  values are replaced, so a numeric `real_token_share` stays);
- the user information of a URL: `http://user:sk-...@host/v1` -> `http://<redacted>@host/v1`;
- keys written inline in any string: `sk-...` (OpenAI and compatibles), `hf_...` (Hugging Face),
  `ghp_...` (GitHub), `Bearer ...`, `api_key=...` / `password: ...` in a query string or an error message.

Only a copy is redacted: the caller keeps the real value for the backend. An object without a
secret comes back equal (same keys, same order), so what it is written as stays byte-identical.
"""

from __future__ import annotations

import re
from typing import Any

REDACTED = "<redacted>"

# words that make a key secret wherever they stand in it (`client_secret`, `db_password`, `auth_header`)
_SECRET_WORDS = frozenset({"secret", "password", "passwd", "passphrase", "pwd", "auth", "authorization", "credential",
                           "credentials", "cookie", "apikey", "bearer"})
# two words that do so only together (`api_key`, `private-key`); a bare `key` is a dict or cache key
_SECRET_PAIRS = frozenset({("api", "key"), ("access", "key"), ("private", "key"), ("secret", "key"), ("signing", "key"),
                           ("session", "key"), ("client", "key")})
# `eos_token`, `pad_token`, ...: a tokenizer's special tokens, not credentials
_TOKENIZER_WORDS = frozenset({"bos", "eos", "pad", "unk", "sep", "cls", "mask", "special", "start", "end", "max", "num",
                              "prompt", "image", "audio", "video"})

_URL_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^\s/?#@'\"<>]+@")
_INLINE = (
    re.compile(r"\bsk-[A-Za-z0-9][A-Za-z0-9_-]{7,}"),  # OpenAI, Anthropic, DeepSeek, most compatible servers
    re.compile(r"\bhf_[A-Za-z0-9]{20,}"),  # Hugging Face
    re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"),  # GitHub
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),  # Slack
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),  # AWS access key id
)
_BEARER = re.compile(r"\b([Bb]earer)(\s+)[A-Za-z0-9._~+/=-]{16,}")  # an Authorization header's value
# `api_key=...`, `'password': '...'` inside a message, a query string or a repr (names that are not prose words)
_ASSIGNED = re.compile(r"(?i)(?P<name>\b(?:api[_-]?key|apikey|access[_-]?token|auth[_-]?token|refresh[_-]?token|hf[_-]?token|"
                       r"client[_-]?secret|secret[_-]?key|password|passwd)\b['\"]?\s*[=:]\s*['\"]?)(?P<value>[^\s'\",;&}\]]+)")


def _words(key: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", key)  # camelCase -> camel Case
    return re.findall(r"[a-z0-9]+", spaced.lower())


def is_secret_key(key: object) -> bool:
    """Whether a mapping key names a credential (`api_key`, `hf_token`, `Authorization`, ...)."""
    if not isinstance(key, str):
        return False
    words = _words(key)
    if not words:
        return False
    # `token` last (`token`, `hf_token`, `accessToken`), but not a tokenizer's `eos_token` or a `token_counter`
    token = words[-1] == "token" and not (len(words) > 1 and words[-2] in _TOKENIZER_WORDS)
    return token or any(w in _SECRET_WORDS for w in words) or any(p in _SECRET_PAIRS for p in zip(words, words[1:]))


def redact_text(text: str) -> str:
    """`text` with URL user information, inline keys and `name=value` credentials replaced by `<redacted>`."""
    if not text:
        return text
    out = _URL_USERINFO.sub(lambda m: f"{m.group('scheme')}{REDACTED}@", text)
    for pattern in _INLINE:
        out = pattern.sub(REDACTED, out)
    out = _BEARER.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", out)
    return _ASSIGNED.sub(lambda m: m.group("name") + (m.group("value") if m.group("value") == REDACTED else REDACTED), out)


def redact(obj: Any, _secret: bool = False) -> Any:
    """A copy of `obj` (dicts, lists, tuples, strings; other values as they are) with every secret replaced."""
    if isinstance(obj, str):
        return (REDACTED if obj else obj) if _secret else redact_text(obj)
    if isinstance(obj, dict):
        return {k: redact(v, _secret or is_secret_key(k)) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        items = [redact(v, _secret) for v in obj]
        return tuple(items) if isinstance(obj, tuple) else items
    return obj


def contains_secret(obj: Any) -> bool:
    """Whether `redact` would change `obj`."""
    changed: bool = redact(obj) != obj
    return changed


def find_secrets(obj: Any, where: str = "", urls: bool = True) -> list[str]:
    """Where in `obj` (as `a.b[2].c`) `redact` would replace something; `urls=False` passes URL user information."""
    found: list[str] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            path = f"{where}.{k}" if where else str(k)
            if is_secret_key(k) and redact(v, True) != v:
                found.append(path)
            else:
                found += find_secrets(v, path, urls)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            found += find_secrets(v, f"{where}[{i}]", urls)
    elif isinstance(obj, str):
        text = obj if urls else _URL_USERINFO.sub(lambda m: f"{m.group('scheme')}{REDACTED}@", obj)
        if redact_text(text) != text:
            found.append(where)
    return found
