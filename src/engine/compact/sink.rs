//! Where `poll` writes its actions: appended to the caller's `Vec`, or written over the actions
//! already in it, so that a driver polling in a loop reuses their string buffers instead of
//! allocating four strings per fired action.
//!
//! Invariant: the actions of this poll are exactly `out[first..next]`; `finish` drops whatever
//! older actions lie beyond them.

use crate::engine::action::{Action, StartWorkflowAction};

/// The actions of one poll.
pub(crate) struct ActionSink<'a> {
    out: &'a mut Vec<Action>,
    next: usize,
}

impl<'a> ActionSink<'a> {
    /// New actions go after what `out` holds.
    pub(crate) fn appending(out: &'a mut Vec<Action>) -> Self {
        let next = out.len();
        ActionSink { out, next }
    }

    /// New actions replace what `out` holds, reusing its start actions' buffers.
    pub(crate) fn reusing(out: &'a mut Vec<Action>) -> Self {
        ActionSink { out, next: 0 }
    }

    /// Adds an action.
    pub(crate) fn push(&mut self, action: Action) {
        match self.out.get_mut(self.next) {
            Some(old) => *old = action,
            None => self.reserve_push(action),
        }
        self.next += 1;
    }

    /// A start action to fill in: an earlier start (its buffers kept, its contents stale:
    /// the caller sets every field) or a default (blank, nothing allocated) one. `None` never happens (it would mean the
    /// slot just made a start of is not one); callers drop the start then.
    pub(crate) fn start(&mut self) -> Option<&mut StartWorkflowAction> {
        let i = self.next;
        self.next += 1;
        match self.out.get(i) {
            Some(Action::StartWorkflow(_)) => {}
            Some(_) => self.out[i] = Action::StartWorkflow(StartWorkflowAction::default()),
            None => self.reserve_push(Action::StartWorkflow(StartWorkflowAction::default())),
        }
        match &mut self.out[i] {
            Action::StartWorkflow(s) => Some(s),
            _ => None,
        }
    }

    fn reserve_push(&mut self, action: Action) {
        if self.out.capacity() == 0 {
            // Most polls yield one action; the default first capacity (4 actions, over 1 KiB)
            // would take malloc's slow path on every poll of a fresh `Vec`.
            self.out.reserve_exact(1);
        }
        self.out.push(action);
    }

    /// Takes back the start action just handed out (it was not started after all).
    pub(crate) fn retract(&mut self) {
        self.next -= 1;
    }

    /// Ends the poll: older actions not written over are dropped.
    pub(crate) fn finish(self) {
        self.out.truncate(self.next);
    }
}

/// Sets `to` to `from`, keeping `to`'s buffer when it is large enough.
pub(crate) fn set_str(to: &mut String, from: &str) {
    to.clear();
    if to.capacity() < from.len() {
        // Exactly: `push_str` would round a first allocation up.
        to.reserve_exact(from.len());
    }
    to.push_str(from);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::action::CancelWorkflowAction;

    fn cancel(id: &str) -> Action {
        Action::CancelWorkflow(CancelWorkflowAction {
            schedule_id: None,
            workflow_id: id.into(),
            reason: String::new(),
        })
    }

    #[test]
    fn appending_keeps_what_was_there() {
        let mut v = vec![cancel("a")];
        let mut s = ActionSink::appending(&mut v);
        s.push(cancel("b"));
        s.start().unwrap().workflow_id.push('c');
        s.finish();
        assert_eq!(v.len(), 3);
        assert_eq!(v[0], cancel("a"));
        assert_eq!(v[1], cancel("b"));
        assert!(matches!(&v[2], Action::StartWorkflow(st) if st.workflow_id == "c"));
    }

    #[test]
    fn reusing_writes_over_and_drops_the_rest() {
        let mut v = vec![
            cancel("a"),
            Action::StartWorkflow(StartWorkflowAction::default()),
            cancel("z"),
        ];
        let mut s = ActionSink::reusing(&mut v);
        // Slot 0 held a cancel: replaced by a blank start.
        set_str(&mut s.start().unwrap().workflow_id, "x");
        // Slot 1 held a start: handed back, then retracted and replaced by a cancel.
        s.start().unwrap();
        s.retract();
        s.push(cancel("y"));
        s.finish();
        assert_eq!(v.len(), 2);
        assert!(matches!(&v[0], Action::StartWorkflow(st) if st.workflow_id == "x"));
        assert_eq!(v[1], cancel("y"));
    }

    #[test]
    fn retracted_start_at_the_end_is_dropped() {
        let mut v = Vec::new();
        let mut s = ActionSink::appending(&mut v);
        s.start().unwrap();
        s.retract();
        s.finish();
        assert!(v.is_empty());
    }
}
