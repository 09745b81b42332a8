#!/bin/sh
# A Slurm job array that runs one plan as 3 shards, one task each: task K
# of the array (SLURM_ARRAY_TASK_ID, 1 to 3) runs shard K/3 into its own
# output directory on the shared file system. Submit it, then the merge
# after it (see docs/scale-out.md):
#
#   array=$(sbatch --parsable docs/recipes/slurm-array.sh)
#   sbatch --dependency=afterok:$array docs/recipes/slurm-merge.sh
#
#SBATCH --job-name=crucible-shards
#SBATCH --array=1-3
#SBATCH --cpus-per-task=2

# recipe: shard
# Exit status 1 is a finished shard with samples in error (kept, and
# retried after the merge with crucible run --resume runs/merged
# --retry-errors): the task succeeded.
crucible run --quiet --locked --shard "$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT" \
  --output "runs/shard-$SLURM_ARRAY_TASK_ID" ./study.toml ||
  [ $? -eq 1 ]
