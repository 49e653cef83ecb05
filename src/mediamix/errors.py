"""Errors a user can cause. Each message names the column, date, channel or value and says what to do."""


class MediamixError(Exception):
    """Base of every user-facing error; the CLI prints its message without a traceback."""


class DataError(MediamixError):
    """Input data is malformed: bad dates, gaps, duplicates, negative spend, NaN, constant factors."""


class SpecError(MediamixError):
    """A model specification field is invalid; the message names the field."""


class NotFoundError(MediamixError):
    """A named model, data set or run does not exist."""


class TrainingError(MediamixError):
    """Training could not run or produced no usable posterior."""
