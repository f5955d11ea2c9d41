"""Pure rules of A/B experiments on flow templates: which variant a member gets, whether the
difference in an outcome between the variants is more than chance, and the sentence that says so.
No Flask, no SQLAlchemy: values in, decisions out."""

from engage.experiments.assignment import VARIANTS, RunningExperiment, assign, bucket
from engage.experiments.significance import Comparison, VariantCount, compare
from engage.experiments.wording import OUTCOMES, outcome_words, sentence

__all__ = ["OUTCOMES", "VARIANTS", "Comparison", "RunningExperiment", "VariantCount", "assign", "bucket",
           "compare", "outcome_words", "sentence"]
