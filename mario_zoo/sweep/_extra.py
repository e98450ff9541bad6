"""The sweep extra, checked before any module of the package imports Optuna: without it, one line names the install."""

from mario_zoo.extras import require

require("optuna", "sweep", "mario-zoo sweep")
require("sqlalchemy", "sweep", "mario-zoo sweep")
