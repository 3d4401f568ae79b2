//! Which days of one month a calendar allows: Temporal's day-of-month and day-of-week sets,
//! and the rules beyond them — days counted from the month's end (`L`, `L-3`), the weekday
//! nearest a day (`15W`, `LW`), and weekdays of one week of the month (`1#3`, `5L`).
//!
//! Invariants: a day set is bits 1..=31 of a `u32` (bit `d` = day `d`); results never hold
//! bit 0 or a bit above the month's length. A weekday mask is bits 0..=6, 0 = Sunday. Weeks are
//! aligned to the month: week 1 is days 1-7, week 5 days 29-31; counted from the end, week 1
//! is the last seven days. A rule naming a day the month does not have allows nothing that
//! month (the 31st of April, `L-30` in February, the weekday nearest the 31st of June).

/// The day rules of a calendar beyond Temporal's plain day-of-month and day-of-week sets.
///
/// A month's allowed days depend only on its length and the weekday of its 1st, so
/// [`DayRules::compiled`] works them out once for the 28 shapes a month can have and the search
/// looks them up. Equality compares the rules, not that table (which follows from them and the
/// calendar's plain sets).
#[derive(Debug, Clone, Default)]
pub(crate) struct DayRules {
    /// Bit `k`: the day `k` days before the month's last (cron `L-k`; structured `-(k + 1)`).
    pub(crate) from_end: u32,
    /// Each allowed day of the month stands for the weekday nearest it (cron `W`).
    pub(crate) nearest_weekday: bool,
    /// Weekday masks for the weeks 1..=5 of the month (`weeks[2]` holds Monday for `1#3`).
    pub(crate) weeks: [u8; 5],
    /// Weekday masks for the weeks counted from the month's end (`[0]` holds Friday for `5L`).
    pub(crate) weeks_from_end: [u8; 5],
    /// The allowed days of a month of length `28 + i / 7` whose 1st is weekday `i % 7`
    /// (zeros until [`DayRules::compiled`] fills it).
    pub(crate) table: [u32; 28],
}

impl PartialEq for DayRules {
    fn eq(&self, other: &Self) -> bool {
        self.from_end == other.from_end
            && self.nearest_weekday == other.nearest_weekday
            && self.weeks == other.weeks
            && self.weeks_from_end == other.weeks_from_end
    }
}

impl Eq for DayRules {}

/// Days 1..=`len` of a month.
#[inline]
pub(crate) fn month_mask(len: u32) -> u32 {
    (u32::MAX >> (31 - len)) & !1
}

/// Days (bits 1..=31, not cut to the month's length) whose weekday is in `mask`, in a month
/// whose 1st is weekday `first`.
#[inline]
pub(crate) fn weekday_days(mask: u8, first: u32) -> u32 {
    let dow = u32::from(mask);
    if dow == 0x7f {
        return u32::MAX;
    }
    // Bit k of `r`: day k + 1 of the month (weekday (first + k) % 7) matches.
    let r = ((dow >> first) | (dow << (7 - first))) & 0x7f;
    // Copies of the 7-bit week every 7 days; they never overlap, so no carries.
    ((u64::from(r) * 0x1020_4081) << 1) as u32
}

/// Days `len - k` for each bit `k` of `from_end`, within the month.
#[inline]
fn days_from_end(from_end: u32, len: u32) -> u32 {
    // Bit k moves to bit 31 - k, then down to len - k; k >= len falls to bit 0 or below.
    (from_end.reverse_bits() >> (31 - len)) & !1
}

/// The weekday nearest each day of `days` in a month of `len` days whose 1st is weekday
/// `first`: Saturday moves back to Friday (the 1st forward to Monday the 3rd), Sunday forward
/// to Monday (the last day back to Friday), never into another month.
fn nearest_weekdays(days: u32, first: u32, len: u32) -> u32 {
    let mut out = 0;
    let mut rest = days;
    while rest != 0 {
        let d = rest.trailing_zeros();
        rest &= rest - 1;
        let nearest = match (first + d - 1) % 7 {
            6 if d == 1 => 3,
            6 => d - 1,
            0 if d == len => d - 2,
            0 => d + 1,
            _ => d,
        };
        out |= 1 << nearest;
    }
    out
}

impl DayRules {
    /// These rules with the table of allowed days for the plain sets `day_of_month` and
    /// `day_of_week`, boxed for a calendar.
    pub(crate) fn compiled(mut self, day_of_month: u32, day_of_week: u8) -> Box<DayRules> {
        let table = std::array::from_fn(|i| {
            let i = i as u32;
            self.month_days(day_of_month, day_of_week, i % 7, 28 + i / 7)
        });
        self.table = table;
        Box::new(self)
    }

    /// The allowed days of a month of `len` days (28..=31) whose 1st is weekday `first`, from
    /// the table of [`DayRules::compiled`].
    #[inline]
    pub(crate) fn days(&self, first: u32, len: u32) -> u32 {
        self.table
            .get(((len - 28) * 7 + first) as usize)
            .copied()
            .unwrap_or(0)
    }

    /// The days of a month of `len` days (28..=31) whose 1st is weekday `first`, allowed by the
    /// plain sets `day_of_month` (bits 1..=31) and `day_of_week` (every week) and these rules.
    pub(crate) fn month_days(
        &self,
        day_of_month: u32,
        day_of_week: u8,
        first: u32,
        len: u32,
    ) -> u32 {
        let in_month = month_mask(len);
        let mut dom = (day_of_month | days_from_end(self.from_end, len)) & in_month;
        if self.nearest_weekday {
            dom = nearest_weekdays(dom, first, len);
        }
        let mut dow = weekday_days(day_of_week, first);
        for (k, &mask) in (0u32..).zip(&self.weeks) {
            if mask != 0 {
                dow |= weekday_days(mask, first) & (0x7f << (7 * k + 1));
            }
        }
        for (k, &mask) in (0u32..).zip(&self.weeks_from_end) {
            // Days len - 7k - 6 ..= len - 7k, those of them that are >= 1.
            let Some(last) = len.checked_sub(7 * k).filter(|&d| d >= 1) else {
                continue;
            };
            if mask != 0 {
                let week = (u32::MAX >> (31 - last)) & (u32::MAX << last.saturating_sub(6));
                dow |= weekday_days(mask, first) & week;
            }
        }
        dom & dow & in_month
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Oracle: the weekday of day `d` when the 1st is weekday `first`.
    fn weekday_of(d: u32, first: u32) -> u32 {
        (first + d - 1) % 7
    }

    fn days(set: u32) -> Vec<u32> {
        (1..=31).filter(|d| set >> d & 1 == 1).collect()
    }

    #[test]
    fn weekday_days_lists_each_matching_day() {
        for first in 0..7 {
            for mask in 0..=0x7fu8 {
                let want: u32 = (1..=31)
                    .filter(|&d| mask >> weekday_of(d, first) & 1 == 1)
                    .fold(0, |m, d| m | 1 << d);
                let got = weekday_days(mask, first);
                let got = if mask == 0x7f { got & !1 } else { got };
                assert_eq!(got, want, "mask {mask:#b} first {first}");
            }
        }
    }

    #[test]
    fn last_days_count_back_from_each_month_length() {
        let rules = DayRules {
            from_end: 1 | 1 << 3,
            ..Default::default()
        };
        // L and L-3: 31 and 28 in January, 28 and 25 in February 2027.
        assert_eq!(days(rules.month_days(0, 0x7f, 5, 31)), [28, 31]);
        assert_eq!(days(rules.month_days(0, 0x7f, 1, 28)), [25, 28]);
        // L-30 exists only in 31-day months.
        let far = DayRules {
            from_end: 1 << 30,
            ..Default::default()
        };
        assert_eq!(days(far.month_days(0, 0x7f, 0, 31)), [1]);
        assert_eq!(far.month_days(0, 0x7f, 0, 30), 0);
    }

    #[test]
    fn nearest_weekday_stays_in_the_month() {
        let w = DayRules {
            nearest_weekday: true,
            ..Default::default()
        };
        // August 2026 starts on a Saturday (first = 6): 1W is Monday the 3rd.
        assert_eq!(days(w.month_days(1 << 1, 0x7f, 6, 31)), [3]);
        // The 15th (Saturday) moves to Friday the 14th, the 16th (Sunday) to Monday the 17th.
        assert_eq!(days(w.month_days(1 << 15, 0x7f, 6, 31)), [14]);
        assert_eq!(days(w.month_days(1 << 16, 0x7f, 6, 31)), [17]);
        // January 2027 starts on a Friday: the 31st is a Sunday, LW is Friday the 29th.
        let lw = DayRules {
            from_end: 1,
            nearest_weekday: true,
            ..Default::default()
        };
        assert_eq!(days(lw.month_days(0, 0x7f, 5, 31)), [29]);
        // A weekday stays put; a missing day (the 31st of a 30-day month) gives nothing.
        assert_eq!(days(w.month_days(1 << 5, 0x7f, 6, 31)), [5]);
        assert_eq!(w.month_days(1 << 31, 0x7f, 6, 30), 0);
    }

    #[test]
    fn weeks_of_the_month_pick_one_occurrence() {
        // March 2027 starts on a Monday (first = 1), 31 days.
        let mut third_monday = DayRules::default();
        third_monday.weeks[2] = 1 << 1;
        assert_eq!(days(third_monday.month_days(u32::MAX, 0, 1, 31)), [15]);
        let mut last_friday = DayRules::default();
        last_friday.weeks_from_end[0] = 1 << 5;
        assert_eq!(days(last_friday.month_days(u32::MAX, 0, 1, 31)), [26]);
        // A fifth Monday exists (the 29th); a fifth Friday does not (the 5th, 12th, ... 26th).
        let mut fifth = DayRules::default();
        fifth.weeks[4] = 1 << 1 | 1 << 5;
        assert_eq!(days(fifth.month_days(u32::MAX, 0, 1, 31)), [29]);
        // Plain weekdays and week rules are a union; day of month still cuts them (AND).
        let mut both = third_monday.clone();
        both.weeks_from_end[0] = 1 << 5;
        assert_eq!(
            days(both.month_days(u32::MAX, 1 << 3, 1, 31)),
            [3, 10, 15, 17, 24, 26, 31]
        );
        assert_eq!(days(both.month_days(1 << 26, 1 << 3, 1, 31)), [26]);
    }

    #[test]
    fn can_fire_sees_impossible_combinations() {
        let mut fifth_friday = DayRules::default();
        fifth_friday.weeks[4] = 1 << 5;
        let fifth_friday = fifth_friday.compiled(u32::MAX, 0);
        let can_fire = |rules: &DayRules, len| (0..7).any(|first| rules.days(first, len) != 0);
        assert!(can_fire(&fifth_friday, 29));
        assert!(!can_fire(&fifth_friday, 28));
        let w = DayRules {
            nearest_weekday: true,
            ..Default::default()
        }
        .compiled(1 << 31, 0x7f);
        assert!([28, 29, 30].iter().all(|&len| !can_fire(&w, len)));
        assert!(can_fire(&w, 31));
    }

    #[test]
    fn the_table_holds_every_month_shape() {
        let mut rules = DayRules {
            from_end: 1 << 2,
            nearest_weekday: true,
            ..Default::default()
        };
        rules.weeks[1] = 0b101;
        let (dom, dow) = (1 << 9 | 1 << 30, 1 << 3);
        let compiled = rules.clone().compiled(dom, dow);
        for len in 28..=31 {
            for first in 0..7 {
                assert_eq!(
                    compiled.days(first, len),
                    rules.month_days(dom, dow, first, len),
                    "{len} {first}"
                );
            }
        }
    }
}
