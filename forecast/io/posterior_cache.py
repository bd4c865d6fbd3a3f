"""A cache of fitted posteriors, so `forecast report` with unchanged inputs does not sample.

An entry is keyed by a hash of everything the posterior depends on (the priors file, the
default scales, the evidence and resolutions content hash, the seed, the sampler settings,
the what-if conditions, the model version and the package versions), and stores that key
inside it too: a changed input is a different key, and an entry whose stored key, shapes or
files do not check out is treated as missing and refitted. Arrays are stored with
`numpy.savez` and read with `allow_pickle=False`; metadata is JSON."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np

from .. import MODEL_VERSION
from ..model.scales import default_scales_text
from ..versions import package_versions
from .atomic import atomic_write_bytes, atomic_write_text

KEEP_ENTRIES = 16
CACHED_PACKAGES = ("forecast", "pymc", "pytensor", "nutpie", "numpy", "arviz")


def cache_key(priors_bytes: bytes, evidence_hash: str, seed: int, settings: dict,
              given: dict[str, bool] | None = None) -> str:
    versions = package_versions()
    material = {
        "model_version": MODEL_VERSION,
        "priors": hashlib.sha256(priors_bytes).hexdigest(),
        "default_scales": hashlib.sha256(default_scales_text().encode()).hexdigest(),
        "evidence_hash": evidence_hash,
        "seed": seed,
        "settings": settings,
        "given": sorted((given or {}).items()),
        "versions": {k: versions.get(k) for k in CACHED_PACKAGES},
    }
    blob = json.dumps(material, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()


def _paths(directory: Path, key: str) -> tuple[Path, Path]:
    return directory / f"{key}.npz", directory / f"{key}.json"


def load_posterior(directory: Path, key: str, n_nodes: int):
    """(p_yes, mcse, meta) for `key`, or None when absent or not trustworthy. The CPT draws
    stored with it, if any, are in meta["theta"] (an array), else that is None; per-state
    draws likewise in meta["states"]."""
    arrays_path, meta_path = _paths(directory, key)
    try:
        meta = json.loads(meta_path.read_text("utf-8"))
        with np.load(arrays_path, allow_pickle=False) as arrays:
            p_yes, mcse = np.array(arrays["p_yes"]), np.array(arrays["mcse"])
            theta = np.array(arrays["theta"]) if "theta" in arrays.files else None
            states = np.array(arrays["states"]) if "states" in arrays.files else None
    except (OSError, ValueError, KeyError):
        return None
    if (meta.get("key") != key or p_yes.ndim != 3 or p_yes.shape[-1] != n_nodes
            or mcse.shape != (n_nodes,) or not np.all(np.isfinite(p_yes))):
        return None
    if theta is not None and (theta.ndim != 3 or theta.shape[:2] != p_yes.shape[:2]
                              or not np.all(np.isfinite(theta))):
        return None
    if states is not None and (states.ndim != 3 or states.shape[:2] != p_yes.shape[:2]
                               or not np.all(np.isfinite(states))):
        return None
    return p_yes, mcse, {**meta, "theta": theta, "states": states}


def store_posterior(directory: Path, key: str, p_yes: np.ndarray, mcse: np.ndarray,
                    meta: dict, theta: np.ndarray | None = None,
                    states: np.ndarray | None = None) -> None:
    """`states`: per-state draws (chains, draws, n_states) of a network with k-state nodes."""
    buffer = io.BytesIO()
    extra = {name: array for name, array in (("theta", theta), ("states", states))
             if array is not None}
    np.savez(buffer, p_yes=p_yes, mcse=mcse, **extra)
    arrays_path, meta_path = _paths(directory, key)
    atomic_write_bytes(arrays_path, buffer.getvalue())
    atomic_write_text(meta_path, json.dumps({**meta, "key": key}, sort_keys=True))
    _evict(directory)


def _evict(directory: Path) -> None:
    entries = sorted(directory.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for stale in entries[KEEP_ENTRIES:]:
        for path in _paths(directory, stale.stem):
            path.unlink(missing_ok=True)
