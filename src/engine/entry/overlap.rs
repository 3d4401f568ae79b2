//! Overlap processing: Temporal's `ProcessBuffer` (shared by its V1 and V2 schedulers).
//!
//! Each buffered start carries its own overlap policy or none; none resolves to the schedule's
//! policy *when the buffer is processed*, so an update of the policy affects starts already
//! waiting. Walking the buffer in order, with `is_running` = at least one tracked run open:
//! - ALLOW_ALL starts run now (unless a cancel or terminate is needed; then they are dropped,
//!   as they would be killed anyway);
//! - with nothing running, the first other start runs now (CANCEL_OTHER and TERMINATE_OTHER
//!   starts replace it instead, so the *latest* of them runs);
//! - otherwise SKIP counts a skip, BUFFER_ONE keeps the first waiting start and skips the
//!   rest, BUFFER_ALL keeps everything, CANCEL_OTHER / TERMINATE_OTHER keep the start and ask
//!   for the running runs to be cancelled / terminated.
//!
//! Invariant: every input start ends up in exactly one of `overlapping`, `non_overlapping`,
//! the kept buffer, or the skipped count, except CANCEL/TERMINATE_OTHER starts replaced while
//! nothing runs and ALLOW_ALL starts dropped for a cancel, which Temporal does not count.

use smallvec::SmallVec;

use crate::engine::schedule::ScheduleOverlapPolicy;

/// What processing the buffer decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BufferDecision<T> {
    /// ALLOW_ALL starts to run now, in order.
    pub(crate) overlapping: SmallVec<[T; 2]>,
    /// The one non-ALLOW_ALL start to run now, after the overlapping ones.
    pub(crate) non_overlapping: Option<T>,
    /// Running runs must be cancelled (CANCEL_OTHER waiting).
    pub(crate) need_cancel: bool,
    /// Running runs must be terminated (TERMINATE_OTHER waiting); wins over cancel.
    pub(crate) need_terminate: bool,
    /// Starts skipped by the overlap policy.
    pub(crate) overlap_skipped: u64,
    /// Starts not counted anywhere (replaced CANCEL/TERMINATE_OTHER, dropped ALLOW_ALL).
    pub(crate) silently_dropped: u64,
}

/// How a start left the buffer without running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dropped {
    /// Skipped by the overlap policy (counted in `overlap_skipped`).
    Skipped,
    /// Dropped without a skip (counted in `silently_dropped`).
    Replaced,
}

/// Processes `buffer` in place: what stays buffered remains in it, in order.
/// `policy(start)` is the start's own policy, `default` the schedule's; `dropped` is told of
/// each start that leaves without running, in the order decided.
pub(crate) fn process_buffer<T: Copy, B: smallvec::Array<Item = T>>(
    buffer: &mut SmallVec<B>,
    is_running: bool,
    default: ScheduleOverlapPolicy,
    policy: impl Fn(&T) -> Option<ScheduleOverlapPolicy>,
    mut dropped: impl FnMut(&T, Dropped),
) -> BufferDecision<T> {
    use ScheduleOverlapPolicy as P;
    let mut d = BufferDecision {
        overlapping: SmallVec::new(),
        non_overlapping: None,
        need_cancel: false,
        need_terminate: false,
        overlap_skipped: 0,
        silently_dropped: 0,
    };
    let mut kept = 0;
    for i in 0..buffer.len() {
        let start = buffer[i];
        let p = policy(&start).unwrap_or(default);
        if p == P::AllowAll {
            d.overlapping.push(start);
            continue;
        }
        if !is_running && d.non_overlapping.is_none() {
            d.non_overlapping = Some(start);
            continue;
        }
        let keep = match p {
            P::BufferOne => kept == 0,
            P::BufferAll => true,
            P::CancelOther | P::TerminateOther if !is_running => {
                // Replaces the start chosen so far; Temporal does not count the replaced one.
                if let Some(replaced) = d.non_overlapping.replace(start) {
                    dropped(&replaced, Dropped::Replaced);
                }
                d.silently_dropped += 1;
                continue;
            }
            P::CancelOther => {
                d.need_cancel = true;
                true
            }
            P::TerminateOther => {
                d.need_terminate = true;
                true
            }
            // Skip, and any policy added later, skips.
            _ => false,
        };
        if keep {
            buffer[kept] = start;
            kept += 1;
        } else {
            dropped(&start, Dropped::Skipped);
            d.overlap_skipped += 1;
        }
    }
    buffer.truncate(kept);
    if d.need_cancel || d.need_terminate {
        d.silently_dropped += d.overlapping.len() as u64;
        for s in d.overlapping.drain(..) {
            dropped(&s, Dropped::Replaced);
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use ScheduleOverlapPolicy as P;

    type Start = (u32, P);

    fn run(starts: &[Start], running: bool) -> (BufferDecision<Start>, Vec<Start>) {
        let mut b: SmallVec<[Start; 1]> = starts.iter().copied().collect();
        let d = process_buffer(&mut b, running, P::Skip, |s: &Start| Some(s.1), |_, _| {});
        (d, b.to_vec())
    }

    #[test]
    fn mixed_allow_all_and_cancel_drops_the_allow_all_ones() {
        // docs/semantics.md#overlap-policies-and-the-buffer: no allow-all start when cancelling.
        let (d, b) = run(&[(1, P::AllowAll), (2, P::CancelOther)], true);
        assert!(d.overlapping.is_empty());
        assert!(d.need_cancel);
        assert_eq!(b, vec![(2, P::CancelOther)]);
    }

    #[test]
    fn nothing_running_first_start_runs_even_with_mixed_policies() {
        let (d, b) = run(&[(1, P::BufferAll), (2, P::Skip), (3, P::BufferAll)], false);
        assert_eq!(d.non_overlapping, Some((1, P::BufferAll)));
        assert_eq!(d.overlap_skipped, 1);
        assert_eq!(b, vec![(3, P::BufferAll)]);
    }

    /// Temporal's buffer_test.go vectors (tests/data/upstream-vectors-extra.json, process_buffer).
    #[test]
    fn upstream_process_buffer_vectors() {
        use serde_json::Value;
        let text = include_str!("../../../tests/data/upstream-vectors-extra.json");
        let root: Value = serde_json::from_str(text).unwrap();
        let vectors = root["process_buffer"].as_array().unwrap();
        assert_eq!(vectors.len(), 14);
        let policy = |name: &str| match name {
            "UNSPECIFIED" => None,
            "SKIP" => Some(P::Skip),
            "BUFFER_ONE" => Some(P::BufferOne),
            "BUFFER_ALL" => Some(P::BufferAll),
            "CANCEL_OTHER" => Some(P::CancelOther),
            "TERMINATE_OTHER" => Some(P::TerminateOther),
            "ALLOW_ALL" => Some(P::AllowAll),
            other => panic!("unknown policy {other}"),
        };
        let ids = |v: &Value| -> Vec<u64> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap())
                .collect()
        };
        for v in vectors {
            let name = v["name"].as_str().unwrap();
            let mut buffer: SmallVec<[(u64, Option<P>); 1]> = v["buffer"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| {
                    (
                        s["id"].as_u64().unwrap(),
                        policy(s["overlap_policy"].as_str().unwrap()),
                    )
                })
                .collect();
            let default = v["resolve_unspecified_to"]
                .as_str()
                .and_then(policy)
                .unwrap_or(P::Skip);
            let running = v["is_running"].as_bool().unwrap();
            let d = process_buffer(
                &mut buffer,
                running,
                default,
                |s: &(u64, Option<P>)| s.1,
                |_, _| {},
            );
            let e = &v["expect"];
            let got: Vec<u64> = d.overlapping.iter().map(|s| s.0).collect();
            assert_eq!(got, ids(&e["overlapping_starts"]), "{name}: overlapping");
            assert_eq!(
                d.non_overlapping.map(|s| s.0),
                e["non_overlapping_start"].as_u64(),
                "{name}"
            );
            let kept: Vec<u64> = buffer.iter().map(|s| s.0).collect();
            assert_eq!(kept, ids(&e["new_buffer"]), "{name}: new buffer");
            assert_eq!(d.need_cancel, e["need_cancel"].as_bool().unwrap(), "{name}");
            assert_eq!(
                d.need_terminate,
                e["need_terminate"].as_bool().unwrap(),
                "{name}"
            );
            assert_eq!(
                d.overlap_skipped,
                e["overlap_skipped"].as_u64().unwrap(),
                "{name}"
            );
        }
    }
}
