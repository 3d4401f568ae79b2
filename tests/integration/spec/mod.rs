//! The spec engine: Temporal's recorded vectors and upstream test vectors, a brute-force
//! oracle, the `cron` crate where the dialects agree, DST policies, day rules, messages,
//! extremes, and robfig's dialect for cron jobs.

mod cron_diff;
mod dst_policy;
mod extremes;
mod messages;
mod props;
mod rules;
mod standard_cron;
mod upstream;
mod vectors;
