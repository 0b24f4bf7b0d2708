"""Typed settings: environment variables with the NEWSDESK_ prefix, or a `.env` file.

Secrets are `SecretStr` (masked in `repr`) and validation errors never echo input values, so a
mistake elsewhere in the configuration cannot print a token."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from index.model_source import packaged_model_path

PLACEHOLDER_SECRETS = {"changeme", "change-me", "secret", "token", "xxx", "placeholder"}
ANY_ORIGIN = "*"
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what Telegram accepts as secret_token


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="NEWSDESK_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        hide_input_in_errors=True,  # an error elsewhere must not print the tokens
    )

    index_dir: Path = Field(Path(".newsdesk/index"), description="Where the index lives.")
    corpus: Path = Field(Path("corpus"), description="Folder (or file) of articles to index.")
    model: str = Field("", description="Embedding model name or path; empty = packaged MiniLM.")
    encoder: Literal["auto", "onnx", "openvino", "torch"] = Field(
        "auto",
        description="auto: torch in float16 on a CUDA device when there is one, else openvino "
        "on CPUs with bfloat16 units (AMX or AVX512-BF16), else onnx. onnx: an ONNX export of "
        "the model in onnxruntime (the same vectors as torch, faster). openvino: the same export "
        "in OpenVINO, bfloat16 where the CPU has it (fastest; vectors within cosine 0.9999 of "
        "float32). torch: plain sentence-transformers.",
    )
    cache_dir: Path = Field(
        Path.home() / ".cache" / "newsdesk", description="Where the ONNX export is kept."
    )
    threads: int = Field(0, ge=0, description="CPU threads for the model; 0 = the free cores.")
    session_ttl_s: int = Field(
        3600, ge=1, description="Idle seconds before a conversation expires."
    )
    max_sessions: int = Field(10_000, ge=1, description="Conversations kept in memory (LRU).")
    sessions: str = Field(
        "memory",
        description="Where conversations are kept: memory (this process) or a Redis URL "
        "(redis://host:6379/0, rediss://…, unix://…) shared by replicas and kept over restarts.",
    )
    admin_token: SecretStr | None = Field(None, description="Bearer token for /admin routes.")
    telegram_token: SecretStr | None = Field(None, description="Bot token from @BotFather.")
    telegram_base_url: str = Field(
        "https://api.telegram.org/bot", description="Bot API base URL (self-hosted or a stand-in)."
    )
    telegram_allowed_users: Annotated[list[int], NoDecode] = Field(
        default_factory=list, description="Telegram user ids allowed in; empty = everyone."
    )
    telegram_rate_per_minute: int = Field(10, ge=1, description="Questions per chat per minute.")
    telegram_webhook_url: str = Field(
        "",
        description="Public https URL Telegram posts updates to (serve --telegram receives them "
        "on this URL's path); empty = long polling.",
    )
    telegram_webhook_secret: SecretStr | None = Field(
        None,
        description="Secret Telegram sends with each webhook update (X-Telegram-Bot-Api-Secret-"
        "Token); 1-256 of A-Z a-z 0-9 _ -, the same on every replica.",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Web origins (scheme://host[:port]) whose pages may call the API from a "
        "browser, comma-separated, or * for any; empty = none (CORS off).",
    )
    cors_allow_credentials: bool = Field(
        False,
        description="Let the listed origins send cookies (for an authenticating proxy in front); "
        "refused with *.",
    )
    log_format: Literal["text", "json"] = Field(
        "text",
        description="Log lines as text, or as JSON objects (time, level, logger, message, "
        "request_id) for a log collector.",
    )
    backend: Literal["local", "qdrant"] = Field(
        "local",
        description="Where the index is stored: local (FAISS, BM25 and SQLite under index_dir) "
        "or qdrant (a Qdrant collection; index_dir keeps the build's working copy).",
    )
    qdrant_url: str = Field(
        "",
        description="Qdrant server as http(s)://host:port, or a local folder for Qdrant's "
        "embedded mode; empty = the folder qdrant/ beside index_dir.",
    )
    qdrant_api_key: SecretStr | None = Field(None, description="API key of the Qdrant server.")
    qdrant_prefix: str = Field(
        "newsdesk-",
        description="Prefix of the Qdrant collections and alias (several indexes "
        "may share one server).",
    )
    qdrant_quantization: Literal["none", "int8"] = Field(
        "none",
        description="int8: a build gives the Qdrant collection's dense vector int8 scalar "
        "quantization (a quarter of the vector memory; the server rescores with the originals). "
        "The embedded mode ignores it.",
    )

    @field_validator("sessions")
    @classmethod
    def _check_sessions(cls, value: str) -> str:
        value = value.strip()
        if value.lower() in {"", "memory"}:
            return "memory"
        if urlsplit(value).scheme.lower() not in {"redis", "rediss", "unix"}:
            raise ValueError("must be memory or a Redis URL such as redis://localhost:6379/0")
        return value

    @field_validator("telegram_webhook_url")
    @classmethod
    def _check_webhook_url(cls, value: str) -> str:
        value = value.strip()
        if value and (urlsplit(value).scheme.lower() != "https" or not urlsplit(value).hostname):
            raise ValueError("must be an https URL such as https://bot.example.org/telegram")
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _check_webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not WEBHOOK_SECRET.fullmatch(value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("telegram_allowed_users", mode="before")
    @classmethod
    def _split_user_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.replace(",", " ").split()]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return value.replace(",", " ").split()
        return value

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, origins: list[str]) -> list[str]:
        checked = [_origin(origin) for origin in origins]
        if ANY_ORIGIN in checked and len(checked) > 1:
            raise ValueError("* means any origin; give it alone or list the origins")
        return list(dict.fromkeys(checked))

    @field_validator("cors_allow_credentials")
    @classmethod
    def _no_credentials_for_any_origin(cls, allow: bool, info: ValidationInfo) -> bool:
        if allow and ANY_ORIGIN in info.data.get("cors_origins", ()):
            raise ValueError(
                "cannot go with NEWSDESK_CORS_ORIGINS=*: list the origins that may send credentials"
            )
        return allow

    @field_validator(
        "admin_token", "telegram_token", "qdrant_api_key", "telegram_webhook_secret", mode="before"
    )
    @classmethod
    def _refuse_unsafe_secret(cls, value: object) -> object:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        text = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
        if text.strip().lower() in PLACEHOLDER_SECRETS:
            raise ValueError("is still a placeholder; set a real secret or leave it unset")
        return value

    @property
    def model_name_or_path(self) -> str:
        return self.model or str(packaged_model_path())

    @property
    def qdrant_location(self) -> str:
        """The Qdrant server URL, or the folder of an embedded store."""
        return self.qdrant_url or str(Path(self.index_dir).parent / "qdrant")


def _origin(text: str) -> str:
    """`scheme://host[:port]` as browsers send it in `Origin` (lower case, no slash), or *."""
    text = text.strip()
    if text == ANY_ORIGIN:
        return text
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 (raises on a malformed port)
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme.lower() not in {"http", "https"}
        or not parts.hostname
        or parts.path not in {"", "/"}
        or parts.query
        or parts.fragment
        or parts.username is not None
    ):
        raise ValueError(f"{text!r} is not an origin like https://news.example.org")
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
