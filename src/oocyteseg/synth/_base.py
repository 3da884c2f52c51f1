"""Base class of every synth config: unknown keys are errors, two-number ranges must be ordered."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, model_validator


class StrictModel(BaseModel):
    """Frozen pydantic model that rejects unknown options and (low, high) ranges given backwards."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="after")
    def _ranges_ordered(self) -> StrictModel:
        for name, value in self:
            if (isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value)
                    and value[0] > value[1]):
                raise ValueError(f"{name}: range ({value[0]}, {value[1]}) has its low end above its high end")
        return self
