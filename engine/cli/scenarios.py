"""`tongban test`: run the designers' scenarios and print each process's flow coverage."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from engine.cli.main import Context, main, pass_ctx
from engine.design.scenarios import Report, discover, run_all


def _print(report: Report) -> None:
    for result in report.results:
        mark = "✓" if result.passed else "✗"
        click.echo(f"{mark} {result.scenario.name}  [{result.scenario.path}]")
        if not result.passed:
            click.echo(f"    {result.message}")
    click.echo("")
    click.echo("流程覆盖率 (flow coverage)")
    for key, cov in sorted(report.coverage.items()):
        click.echo(f"  {key}: 连线 (sequence flows) {len(cov.flows_taken)}/{len(cov.flows)} = {cov.flow_ratio:.0%}, "
                   f"节点 (flow nodes) {len(cov.nodes_visited)}/{len(cov.nodes)} = {cov.node_ratio:.0%}")
        if cov.missed_flows():
            click.echo(f"    未走过的连线 (flows not taken): {', '.join(cov.missed_flows())}")
        if cov.missed_nodes():
            click.echo(f"    未到达的节点 (nodes not reached): {', '.join(cov.missed_nodes())}")
    passed = sum(r.passed for r in report.results)
    click.echo(f"\n{passed}/{len(report.results)} 个场景通过 (scenarios passed)")


@main.command("test")
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--min-coverage", type=click.FloatRange(0, 100), default=0.0, show_default=True,
              help="fail when a process's sequence-flow coverage is below this percentage")
@click.option("--json", "as_json", is_flag=True, help="machine-readable results")
@pass_ctx
def test_command(ctx: Context, path: Path | None, min_coverage: float, as_json: bool) -> None:
    """运行流程场景并报告流程覆盖率 (run the scenarios under PATH, default processes/; print flow coverage)."""
    root = ctx.settings.processes_dir
    report = run_all(ctx.files(None), discover(path.resolve() if path else root), root)
    below = [k for k, c in report.coverage.items() if c.flow_ratio * 100 < min_coverage]
    if as_json:
        click.echo(json.dumps({
            "scenarios": [{"name": r.scenario.name, "path": r.scenario.path, "passed": r.passed,
                           "message": r.message} for r in report.results],
            "coverage": {k: {"flows": [len(c.flows_taken), len(c.flows)], "nodes": [len(c.nodes_visited), len(c.nodes)],
                             "missed_flows": c.missed_flows(), "missed_nodes": c.missed_nodes()}
                         for k, c in sorted(report.coverage.items())},
        }, ensure_ascii=False, indent=2))
    else:
        _print(report)
        for key in below:
            click.echo(f"✗ {key} 的连线覆盖率低于 {min_coverage:g}% (sequence-flow coverage below the minimum)")
    if not report.passed or below or not report.results:
        sys.exit(1)
