"""Tests of engine/bpmn: BPMN constructs, scripts, services, state."""
