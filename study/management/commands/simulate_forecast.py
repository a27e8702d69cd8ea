"""Validate the pass forecast and the daily plan on simulated learners.

    python manage.py simulate_forecast ../shared/data/exams/*.csv \
        [--learners 100] [--days 42] [--daily-size 40] [--per-subject 20] \
        [--seed 1] [--json FILE]
    python manage.py simulate_forecast --topic 산업안전기사 ...

The bank is either question files (CSV/JSONL, as import_questions reads them;
repeats are the same stem in several rounds) or a topic in the database (its
computed repeat grades). Nothing is written to the database.

Time-split mode (study.forecast.timesplit): the rounds before the sat round
are the bank, and the learners sit the sat round itself, new questions and
all; learners remember by FSRS, ACT-R or half-life regression:

    python manage.py simulate_forecast FILES --sit-round 2020-4 \
        [--learner-model fsrs|actr|hlr] [--learners 100] [--daily-size 10] \
        [--seed 1] --json OUT

--sit-round, --learner-model, --daily-size and --seed take comma-separated
lists: every combination is a cell (two, at 28 and 7 days before).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from study.exam_rules import PASS_AVERAGE_MIN
from study.forecast import learners, model, timesplit
from study.forecast import simulation as sim
from study.imports.parsing import ParsedRow, parse_file
from study.management.topic_option import OWNER_HELP, topic_from_options
from study.models import Question
from study.models.exam_spec import DEFAULT_PER_SUBJECT
from study.rounds import SessionLabelError, round_key_parse, session_sort_key
from study.selectors.exam_spec import exam_paper_for_topic


def _int_list(value: str) -> list[int]:
    try:
        items = [int(v) for v in str(value).split(",") if v.strip()]
    except ValueError as exc:
        raise CommandError(f"not a list of numbers: {value!r}") from exc
    if not items or min(items) < 1:
        raise CommandError(f"give positive numbers: {value!r}")
    return items


def _range(value: str) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in value.split("-", 1))
    except ValueError as exc:
        raise CommandError(f"not a range LOW-HIGH: {value!r}") from exc
    if not 0 <= low <= high <= 1:
        raise CommandError(f"a range within 0-1: {value!r}")
    return low, high


def _round_order(key: tuple[int, str]) -> tuple:
    return (key[0], session_sort_key(key[1]))


class Command(BaseCommand):
    help = "Simulate learners: Brier score of the pass forecast, plan vs stage quizzes."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="*", help="question files (CSV/JSONL)")
        parser.add_argument("--topic", help="use this topic's questions instead")
        parser.add_argument("--owner", help=OWNER_HELP)
        parser.add_argument("--learners", type=int, default=100)
        parser.add_argument("--days", type=int, default=42)
        parser.add_argument(
            "--daily-size",
            default="40",
            help="questions a day (time-split: a comma-separated list)",
        )
        parser.add_argument(
            "--per-subject",
            type=int,
            help="questions per subject (default: the topic's exam spec, or 20)",
        )
        parser.add_argument(
            "--seed", default="1", help="(time-split: a comma-separated list)"
        )
        parser.add_argument("--json", help="also write the figures to this file")
        parser.add_argument(
            "--sit-round",
            help="time-split: sit this real round (YEAR-SESSION, or a list); "
            "the rounds before it are the bank",
        )
        parser.add_argument(
            "--learner-model",
            default="fsrs",
            help=f"time-split: how learners remember ({', '.join(learners.MODELS)}; "
            "a comma-separated list)",
        )

        parser.add_argument(
            "--slip",
            default="0-0.1",
            help="time-split: range of the learners' slip rates (LOW-HIGH)",
        )
        parser.add_argument(
            "--guess",
            default="0.25-0.4",
            help="time-split: range of the learners' guess success (LOW-HIGH)",
        )

    def handle(self, *args, **opts):
        if bool(opts["files"]) == bool(opts["topic"]):
            raise CommandError("give question files or --topic, not both")
        if opts["days"] < 29:
            raise CommandError("--days must be at least 29 (forecasts at 28 and 7)")
        if opts["sit_round"]:
            return self._time_split(opts)
        opts["daily_size"] = _int_list(opts["daily_size"])[0]
        opts["seed"] = _int_list(opts["seed"])[0]
        bank, subjects, per_subject = (
            self._bank_from_topic(opts)
            if opts["topic"]
            else self._bank_from_files(opts["files"])
        )
        if not bank:
            raise CommandError("no usable questions")
        per_subject = opts["per_subject"] or per_subject
        spec = sim.PaperSpec(tuple((s, per_subject) for s in subjects))
        cfg = sim.Config(
            learners=opts["learners"],
            days=opts["days"],
            daily_size=opts["daily_size"],
            seed=opts["seed"],
        )
        self.stderr.write(
            f"{len(bank)} questions, {len(subjects)} subjects × "
            f"{per_subject}; {cfg.learners} learners × 2 policies × "
            f"{cfg.days} days …"
        )
        started = time.monotonic()
        result = sim.simulate(bank, spec, cfg)
        figures = result.summary() | {
            "questions": len(bank),
            "subjects": subjects,
            "seconds": round(time.monotonic() - started, 1),
        }
        self._print(figures, cfg)
        if opts["json"]:
            Path(opts["json"]).write_text(
                json.dumps(figures, ensure_ascii=False, indent=2) + "\n"
            )

    def _time_split(self, opts: dict) -> None:
        if opts["topic"]:
            raise CommandError("--sit-round needs question files (the rounds)")
        models = [m.strip() for m in opts["learner_model"].split(",") if m.strip()]
        unknown = sorted(set(models) - set(learners.MODELS))
        if unknown or not models:
            raise CommandError(
                f"unknown learner model {', '.join(unknown) or '(none)'}: "
                f"use {', '.join(learners.MODELS)}"
            )
        try:
            sit_rounds = [
                round_key_parse(k.strip()) for k in opts["sit_round"].split(",")
            ]
        except SessionLabelError as exc:
            raise CommandError(f"--sit-round: {exc}") from exc
        rows = [
            timesplit.RoundRow(
                r.year, r.session, r.subject, r.number, r.stem, r.needs_figure
            )
            for r in self._rows(opts["files"])
            if r.year is not None and r.session and r.subject
        ]
        started = time.monotonic()
        all_cells, pairs, setups = [], [], []
        for sit_round in sit_rounds:
            try:
                setup = timesplit.setup_time_split(rows, sit_round, _round_order)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            setups.append(setup)
            self.stderr.write(self._describe(setup))
            for name in models:
                for size in _int_list(opts["daily_size"]):
                    for seed in _int_list(opts["seed"]):
                        cfg = timesplit.Config(
                            learners=opts["learners"],
                            days=opts["days"],
                            daily_size=size,
                            seed=seed,
                            learner_model=name,
                            slip=_range(opts["slip"]),
                            guess=_range(opts["guess"]),
                        )
                        t0 = time.monotonic()
                        sat = timesplit.simulate(setup, cfg)
                        key = f"{sit_round[0]}-{sit_round[1]}"
                        for cell in timesplit.cells(sat, cfg):
                            cell["sit_round"] = key
                            cell["seconds"] = round(time.monotonic() - t0, 1)
                            all_cells.append(cell)
                            self._print_cell(cell)
                        pairs += timesplit.forecast_pairs(sat)
        figures = {
            "mode": "time_split",
            "command": "simulate_forecast "
            + " ".join(
                f"--{k.replace('_', '-')} {opts[k]}"
                for k in (
                    "sit_round",
                    "learner_model",
                    "daily_size",
                    "seed",
                    "learners",
                    "days",
                    "slip",
                    "guess",
                )
            ),
            "learners": opts["learners"],
            "days": opts["days"],
            "rounds": [
                {
                    "sit_round": f"{s.sit_round[0]}-{s.sit_round[1]}",
                    "bank_rounds": len(s.bank_rounds),
                    "bank_questions": s.questions,
                    "subjects": s.subjects,
                    "paper_new": {
                        name: int((paper < 0).sum())
                        for name, paper in zip(s.subjects, s.paper, strict=True)
                    },
                    "estimated_new_share": {
                        name: round(share.mean, 3)
                        for name, share in zip(s.subjects, s.shares, strict=True)
                    },
                }
                for s in setups
            ],
            "cells": all_cells,
            "reliability": timesplit.reliability(pairs),
            "seconds": round(time.monotonic() - started, 1),
            "load_average": [round(x, 2) for x in os.getloadavg()],
        }
        self._print_reliability(figures["reliability"])
        if opts["json"]:
            Path(opts["json"]).write_text(
                json.dumps(figures, ensure_ascii=False, indent=2) + "\n"
            )

    def _describe(self, setup: timesplit.Setup) -> str:
        new = sum(int((p < 0).sum()) for p in setup.paper)
        asked = sum(p.size for p in setup.paper)
        share = sum(
            s.mean * p.size for s, p in zip(setup.shares, setup.paper, strict=True)
        ) / max(asked, 1)
        return (
            f"sit {setup.sit_round[0]}-{setup.sit_round[1]}: bank of "
            f"{len(setup.bank_rounds)} rounds, {setup.questions} questions; the "
            f"paper has {new} of {asked} questions no bank round asked "
            f"(estimated from the bank: {share:.0%})"
        )

    def _print_cell(self, cell: dict) -> None:
        mark = "ok" if cell["meets_target"] else "MISS"
        self.stdout.write(
            f"{cell['sit_round']:>8} {cell['learner_model']:>5} "
            f"{cell['daily_size']:>3}/day seed {cell['seed']:<3} "
            f"{cell['days_before']:>2} days: Brier {cell['brier']:.3f} floor "
            f"{cell['floor']:.3f} gap {cell['gap']:+.3f} (≤ {cell['target']}) "
            f"{mark} · naive {cell['naive_brier']:.3f} · pass rate "
            f"{cell['pass_rate']:.0%} · mean forecast {cell['mean_forecast']:.0%}"
        )

    def _print_reliability(self, rows: list[dict]) -> None:
        self.stdout.write("Reliability (all forecasts): decile, n, forecast, pass rate")
        for row in rows:
            if not row["n"]:
                continue
            judged = row.get("within_tolerance")
            verdict = "" if judged is None else ("ok" if judged else "MISS")
            self.stdout.write(
                f"  {row['low']:.1f}–{row['high']:.1f} {row['n']:>5} "
                f"{row['mean_forecast']:.3f} {row['pass_rate']:.3f} {verdict}"
            )

    def _rows(self, files: list[str]) -> list[ParsedRow]:
        rows = []
        for name in files:
            path = Path(name)
            if not path.is_file():
                raise CommandError(f"no such file: {name}")
            rows += [r for r in parse_file(path) if isinstance(r, ParsedRow)]
        return rows

    def _bank_from_files(self, files):
        rows = []
        for name in files:
            path = Path(name)
            if not path.is_file():
                raise CommandError(f"no such file: {name}")
            rows += [r for r in parse_file(path) if isinstance(r, ParsedRow)]
        first_number: dict[str, int] = {}
        for r in rows:
            first_number[r.subject] = min(first_number.get(r.subject, 999), r.number)
        subjects = sorted(first_number, key=lambda s: (first_number[s], s))
        return sim.bank_from_rows(rows), subjects, DEFAULT_PER_SUBJECT

    def _bank_from_topic(self, opts):
        topic = topic_from_options(opts)
        paper = exam_paper_for_topic(topic=topic)
        subjects = list(paper.subjects)
        bank = [
            sim.BankQuestion(
                id=qid, subject=subject, weight=model.recurrence_weight(rounds)
            )
            for qid, subject, rounds in Question.objects.quizzable()
            .filter(topic=topic, subject__in=subjects)
            .values_list("id", "subject", "round_count")
        ]
        return bank, subjects, paper.per_subject

    def _print(self, f, cfg):
        out = self.stdout.write
        out(
            f"learners {f['learners']} · {f['days']} days · "
            f"{f['daily_size']} questions a day · bank {f['questions']}"
        )
        out("")
        out("Brier score of P(합격) (lower is better; target ≤ 0.15)")
        out(
            f"{'':14}{'forecast':>10}{'oracle':>10}{'naive':>10}"
            f"   (naive: last mock ≥ {PASS_AVERAGE_MIN})"
        )
        for d in cfg.forecast_days_before:
            label = f"{d} days before"
            out(
                f"{label:14}{f[f'brier_{d}d']:>10.3f}{f[f'oracle_brier_{d}d']:>10.3f}"
                f"{f[f'naive_brier_{d}d']:>10.3f}"
            )
            for policy in ("plan", "stage"):
                out(
                    f"{'  ' + policy:14}{f[f'brier_{d}d_{policy}']:>10.3f}"
                    f"{f[f'oracle_brier_{d}d_{policy}']:>10.3f}"
                    f"{f[f'naive_brier_{d}d_{policy}']:>10.3f}"
                )
        out(
            f"(a constant forecast of the overall pass rate, known in advance: "
            f"{f['base_rate_brier']:.3f})"
        )
        out(
            "(oracle: the same projection fed with the learner's true memory "
            "and ability)"
        )
        out(
            f"Floor: a perfect forecast (the true P(합격) at the sitting) expects "
            f"{f['floor_brier']:.3f} (plan {f['floor_brier_plan']:.3f}, stage "
            f"{f['floor_brier_stage']:.3f}; scored {f['exam_oracle_brier']:.3f})"
        )
        for d in cfg.forecast_days_before:
            out(
                f"  {d} days before, mean (f − p)² over the floor: forecast "
                f"{f[f'forecast_excess_{d}d']:.3f}, oracle "
                f"{f[f'oracle_excess_{d}d']:.3f}"
            )
        out("")
        out("Pass rate on the exam day")
        out(f"  with the daily plan (오늘 할 일)  {f['pass_rate_plan']:.1%}")
        out(f"  with stage quizzes alone (단계별) {f['pass_rate_stage']:.1%}")
        out(
            f"  mean exam score: plan {f['mean_score_plan']:.1f}, "
            f"stage {f['mean_score_stage']:.1f}"
        )
        out(
            f"  the same learner passed only with the plan: {f['only_plan_passed']}, "
            f"only with stage quizzes: {f['only_stage_passed']}"
        )
        low, high = f["pass_diff_ci95"]
        out(
            f"  plan − stage, paired: pass rate {f['pass_diff']:+.1%} "
            f"(95% CI {low:+.1%} to {high:+.1%})"
        )
        low, high = f["score_diff_ci95"]
        out(
            f"  plan − stage, paired: mean score {f['score_diff']:+.2f} "
            f"(95% CI {low:+.2f} to {high:+.2f})"
        )
        out(f"({f['seconds']} s)")
