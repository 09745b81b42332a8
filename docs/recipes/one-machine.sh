#!/bin/sh
# One plan as 3 shards on one machine, 3 processes at once (xargs -P), then
# merged: the same as the job arrays, without a scheduler.

# recipe: shard
seq 1 3 | xargs -P 3 -I K crucible run --quiet --locked --shard K/3 --output runs/shard-K ./study.toml

# recipe: merge
crucible merge runs/merged runs/shard-*/*/ && crucible summary runs/merged
