#!/bin/sh
# Joins the shards slurm-array.sh wrote (each under runs/shard-K/<run id>)
# into one run directory, runs/merged.
#SBATCH --job-name=crucible-merge

# recipe: merge
crucible merge runs/merged runs/shard-*/*/ && crucible summary runs/merged
