"""Features of answers, computed in batch: how much of the model answers and rubric concepts an
answer covers, and whether it is written as real sentences.

- columns: the one table of feature columns (name, signal, direction, what it measures);
- prepare: the rubric's vocabulary, tokens, spelling correction;
- vectors: word and character TF-IDF and the sparse helpers;
- similarity, substance, concepts, peers (class-dependent by design), context (other questions,
  foreign words): the signals;
- transformer: `AnswerFeatures`, the scikit-learn transformer that runs them.
"""

from .columns import COLUMN, COLUMNS, FEATURE_NAMES, Column
from .concepts import ConceptResult
from .transformer import Analysis, AnswerFeatures
from .vectors import WordwiseCharTfidf

__all__ = ["COLUMN", "COLUMNS", "FEATURE_NAMES", "Column", "ConceptResult", "Analysis", "AnswerFeatures",
           "WordwiseCharTfidf"]
