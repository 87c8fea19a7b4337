"""What one step hands its side products (engine/case/products.py): everything they read, nothing they must look up.

Kept apart from the registry so that each product module can name the type without importing the registry,
which imports them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo

from SpiffWorkflow.bpmn import BpmnWorkflow
from sqlalchemy import Connection

from engine.bpmn.stepping import Step
from engine.definitions.compiler import CompiledProcess


@dataclass(frozen=True)
class StepOutput:
    """A step being written, as its side products see it (inside the step's transaction)."""

    instance_id: int
    compiled: CompiledProcess
    step: Step  # the workflow after the step, and the notices service tasks asked for
    at: datetime  # the step's moment: every row it writes carries it
    user_id: int | None  # who acted; None for the engine itself (timers, workers)
    timezone: tzinfo  # the district's, for dates written into documents
    #: an organisation's id by its code (the runtime's cached lookup); TongbanError when there is none
    org_id: Callable[[Connection, str], int]
    case_number: str
    started_by: int | None  # who filed the case (None: the engine itself, e.g. a message start event)
    enterprise_id: int | None  # the enterprise whose case it is; None for a case no enterprise filed

    @property
    def workflow(self) -> BpmnWorkflow:
        return self.step.workflow
