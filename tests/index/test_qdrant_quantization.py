"""int8 scalar quantization of the dense vector, as a build asks Qdrant for it: the collection
carries the config a server acts on (the embedded store keeps it but searches the originals)."""

from __future__ import annotations

from pathlib import Path

import pytest
from qdrant_client import models

from index.qdrant_collection import DENSE, connect
from index.qdrant_publish import publish_current


def dense_params(store: Path, quantization: str, built_index: Path) -> models.VectorParams:
    client = connect(str(store))
    try:
        name = publish_current(
            built_index, client, "newsdesk-", incremental=False, quantization=quantization
        )
        return client.get_collection(name).config.params.vectors[DENSE]
    finally:
        client.close()


def test_int8_gives_the_dense_vector_scalar_quantization(built_index: Path, tmp_path: Path) -> None:
    params = dense_params(tmp_path / "qdrant", "int8", built_index)
    assert params.distance == models.Distance.DOT
    assert params.quantization_config == models.ScalarQuantization(
        scalar=models.ScalarQuantizationConfig(
            type=models.ScalarType.INT8, quantile=0.99, always_ram=True
        )
    )


def test_without_it_the_vectors_are_stored_as_they_are(built_index: Path, tmp_path: Path) -> None:
    assert dense_params(tmp_path / "qdrant", "none", built_index).quantization_config is None


def test_an_unknown_kind_is_refused_before_anything_is_written(
    built_index: Path, tmp_path: Path
) -> None:
    client = connect(str(tmp_path / "qdrant"))
    with pytest.raises(ValueError, match="none or int8"):
        publish_current(built_index, client, "newsdesk-", incremental=False, quantization="int4")
    assert client.get_collections().collections == []
    client.close()
