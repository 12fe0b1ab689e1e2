"""``llm_batch_sensors``: when a daily batch's ``llm_batch_job`` run ends, its items' runs.

The run asked the items' language work ahead (``autoclip_assets.llm_batch``); whatever it
answered is in the provider's cache. Its items are generated whether it succeeded, failed or
was cancelled: what it did not answer, their runs ask one by one. The requests are the ones the
daily batch schedule makes without the Batch API (same run keys and tags), so an item is never
generated twice.
"""

import dagster as dg
from dagster import DagsterRunStatus

from autoclip_assets.jobs import content_job
from autoclip_assets.llm_batch import LLMBatchConfig, llm_batch_job
from schedules.daily_batch import item_run

ENDED = (DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED)


def item_requests(run: dg.DagsterRun) -> list[dg.RunRequest]:
    """The ``content_job`` runs of the items a batch run was configured with."""
    config = LLMBatchConfig.model_validate(run.run_config["ops"]["llm_batch"]["config"])
    return [
        item_run(config.project, content_id, score)
        for content_id, score in zip(config.items, config.scores, strict=True)
    ]


def build_llm_batch_sensor(status: DagsterRunStatus) -> dg.RunStatusSensorDefinition:
    @dg.run_status_sensor(
        name=f"llm_batch_{status.value.lower()}_sensor",
        run_status=status,
        monitored_jobs=[llm_batch_job],
        request_job=content_job,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"A daily batch's items, once its llm_batch_job run ended in {status.value}.",
    )
    def llm_batch_sensor(context: dg.RunStatusSensorContext) -> list[dg.RunRequest]:
        return item_requests(context.dagster_run)

    return llm_batch_sensor


llm_batch_sensors = [build_llm_batch_sensor(status) for status in ENDED]
