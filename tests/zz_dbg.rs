mod engine_util;
use engine_util::*;
use schedule_engine::*;
use std::time::Duration;
#[test]
fn dbg() {
    for catchup in [5u64, 300, 86_400, 365 * 86_400] {
        let mut sch = interval(
            Duration::from_secs(60),
            Duration::ZERO,
            ScheduleOverlapPolicy::Skip,
        );
        sch.spec.skip = vec![ScheduleCalendarSpec {
            second: vec![ScheduleRange::new(0, 59, 1)],
            minute: vec![ScheduleRange::new(0, 59, 1)],
            hour: vec![ScheduleRange::new(0, 23, 1)],
            day_of_week: vec![ScheduleRange::new(0, 0, 1)],
            ..Default::default()
        }];
        sch.policy.catchup_window = Duration::from_secs(catchup);
        sch.policy.overlap = ScheduleOverlapPolicy::CancelOther;
        sch.state.remaining_actions = Some(1);
        let mut s = Scheduler::default();
        s.create_schedule("s0", sch, t("1970-04-04T17:31:59Z"))
            .unwrap();
        let now = t("1971-06-14T00:00:00Z");
        let a = s.poll(now);
        eprintln!(
            "catchup {catchup}: {} actions, wake {:?}, {:?}",
            a.len(),
            s.next_wakeup(),
            describe(&s, "s0", now)
                .info
                .num_actions_missed_catchup_window
        );
    }
}
