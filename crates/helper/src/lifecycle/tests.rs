//! The lifecycle's decisions as values, on KDE Linux-shaped roots: pins, rollbacks, what an
//! installation hands back, acknowledging a fallback. The boot's decisions are in `boot`.

use super::decide::{self, AfterInstall, BootChoice, RollbackDecision};
use super::{Fallback, LifecycleError, LifecycleState, VersionState};
use crate::SystemState;
use crate::installed::boot::{self, Var};
use crate::installed::inventory::Layout;
use std::collections::BTreeSet;
use testbed::system::{Images, KdeLinuxRoot, VersionSpec};

mod boot_decisions;

const OLDER: &str = "202501010000";
const A: &str = "202611010000";
const B: &str = "202611150000";
const C: &str = "202612010000";
const D: &str = "202612150000";

/// A KDE Linux-shaped root in a temporary directory.
struct Root {
    _dir: tempfile::TempDir,
    system: KdeLinuxRoot,
    layout: Layout,
}

impl Root {
    /// `specs` installed, `booted` running, with efivarfs when `efivars`.
    fn new(specs: &[VersionSpec], booted: Option<&str>, efivars: bool) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let system = KdeLinuxRoot::create(dir.path(), specs, booted, Images::Plain).expect("root");
        if efivars {
            std::fs::create_dir_all(system.root.join(boot::EFIVARS_DIR)).expect("efivars");
        }
        let layout = Layout::detect(&system.root, None, None, true);
        Self {
            _dir: dir,
            system,
            layout,
        }
    }

    /// Complete, blessed versions.
    fn of(versions: &[&str], booted: &str, efivars: bool) -> Self {
        let specs: Vec<VersionSpec> = versions.iter().map(|v| VersionSpec::complete(v)).collect();
        Self::new(&specs, Some(booted), efivars)
    }

    fn write(&self, path: &str, text: &str) {
        let full = self.system.root.join(path);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        std::fs::write(full, text).expect("write");
    }

    fn set(&self, var: Var, value: &str) {
        boot::write_var(&self.layout, var, Some(value)).expect("EFI variable");
    }

    fn state(&self) -> SystemState {
        crate::read_system(&self.layout).expect("readable system")
    }
}

/// A version whose boot entry carries the counter `(left, done)`.
fn counted(version: &str, left: u64, done: u64) -> VersionSpec {
    let mut spec = VersionSpec::complete(version);
    spec.counter = Some((left, done));
    spec
}

fn set(versions: &[&str]) -> BTreeSet<String> {
    versions.iter().map(|v| v.to_string()).collect()
}

fn strings(versions: &[&str]) -> Vec<String> {
    versions.iter().map(|v| v.to_string()).collect()
}

#[test]
fn state_names_are_those_of_the_json() {
    for state in [
        VersionState::Running,
        VersionState::Default,
        VersionState::NextBootOnce,
        VersionState::OnTrial {
            tries_left: 1,
            tries_done: 1,
        },
        VersionState::Failed { tries: 2 },
        VersionState::Pinned,
        VersionState::Protected,
        VersionState::HeldBack,
        VersionState::Incomplete {
            missing: vec!["60-esp".into()],
        },
        VersionState::Obsolete,
    ] {
        let json = serde_json::to_value(&state).expect("JSON");
        assert_eq!(json["state"], state.name());
    }
}

#[test]
fn pinning_changes_the_state_once_and_only_for_an_installed_version() {
    let root = Root::of(&[A, B], B, false);
    let system = root.state();
    let empty = LifecycleState::default();
    let pinned = decide::pin(&system, &empty, A, true)
        .expect("installed")
        .expect("a change");
    assert_eq!(pinned.pinned, set(&[A]));
    assert_eq!(
        decide::pin(&system, &pinned, A, true).expect("installed"),
        None,
        "pinned already"
    );
    assert_eq!(
        decide::pin(&system, &pinned, A, false).expect("unpin"),
        Some(empty.clone())
    );
    assert_eq!(decide::pin(&system, &empty, A, false).expect("unpin"), None);
    assert!(matches!(
        decide::pin(&system, &empty, OLDER, true),
        Err(LifecycleError::NotInstalled(v)) if v == OLDER
    ));
    let gone = LifecycleState {
        pinned: set(&[OLDER]),
        ..LifecycleState::default()
    };
    assert_eq!(
        decide::pin(&system, &gone, OLDER, false).expect("a removed version can be unpinned"),
        Some(empty)
    );
}

#[test]
fn a_rollback_makes_the_entry_default_and_holds_the_newer_versions_back() {
    let root = Root::of(&[A, B, C], C, true);
    let system = root.state();
    let before = LifecycleState {
        pinned: set(&[B]),
        held_back: set(&[OLDER]),
        ..LifecycleState::default()
    };
    let back = decide::rollback(&system, &before, A, false).expect("rollback");
    assert_eq!(
        back,
        RollbackDecision {
            version: A.into(),
            entry: "kde-linux_202611010000.efi".into(),
            once: false,
            write_to: BootChoice::DefaultVar,
            held_back: strings(&[C, B]),
            state: LifecycleState {
                pinned: set(&[B]),
                held_back: set(&[B, C]),
                rollback_default: Some(A.into()),
                fallback: None,
            },
        },
        "the older version held back before is released: it is not newer than the choice"
    );
    let forward = decide::rollback(&system, &back.state, B, false).expect("roll forward");
    assert_eq!(forward.held_back, strings(&[C]));
    assert_eq!(forward.state.held_back, set(&[C]), "B is released");
    assert_eq!(forward.state.rollback_default.as_deref(), Some(B));
}

#[test]
fn booting_once_holds_nothing_back_and_needs_efi_variables() {
    let root = Root::of(&[A, B], B, true);
    let system = root.state();
    let state = LifecycleState {
        held_back: set(&[C]),
        ..LifecycleState::default()
    };
    let once = decide::rollback(&system, &state, A, true).expect("once");
    assert_eq!(once.write_to, BootChoice::OneShot);
    assert_eq!(once.write_to.name(), "LoaderEntryOneShot");
    assert!(once.held_back.is_empty());
    assert_eq!(once.state, state, "nothing outlives the one boot");

    let root = Root::of(&[A, B], B, false);
    let system = root.state();
    assert!(matches!(
        decide::rollback(&system, &state, A, true),
        Err(LifecycleError::OneShotNeedsEfi)
    ));
    let default = decide::rollback(&system, &state, A, false).expect("default");
    assert_eq!(default.write_to, BootChoice::LoaderConf);
    assert_eq!(default.write_to.name(), "loader.conf");
    assert_eq!(default.held_back, strings(&[B]));
}

#[test]
fn only_a_complete_version_with_tries_left_can_be_chosen() {
    let mut partial = VersionSpec::complete(B);
    partial.erofs = false;
    let root = Root::new(
        &[counted(A, 0, 3), partial, VersionSpec::complete(C)],
        Some(C),
        true,
    );
    let mut system = root.state();
    let state = LifecycleState::default();
    assert!(matches!(
        decide::rollback(&system, &state, OLDER, false),
        Err(LifecycleError::NotInstalled(v)) if v == OLDER
    ));
    assert!(matches!(
        decide::rollback(&system, &state, B, false),
        Err(LifecycleError::Incomplete { version, missing })
            if version == B && missing == ["50-root-x86-64-erofs"]
    ));
    assert!(matches!(
        decide::rollback(&system, &state, A, true),
        Err(LifecycleError::FailedToBoot { version, tries: 3 }) if version == A
    ));
    assert_eq!(
        decide::choosable(&system, C).expect("good").id,
        "kde-linux_202612010000.efi"
    );
    system.boot.entries.clear();
    assert!(matches!(
        decide::rollback(&system, &state, C, false),
        Err(LifecycleError::NoBootEntry(v)) if v == C
    ));
}

#[test]
fn an_installation_hands_back_a_rollback_default_and_releases_the_version() {
    let rolled_back = LifecycleState {
        pinned: set(&[A]),
        held_back: set(&[C, D]),
        rollback_default: Some(B.into()),
        fallback: None,
    };
    assert_eq!(
        decide::after_install(&rolled_back, C),
        Some(AfterInstall {
            hand_back_default: true,
            state: LifecycleState {
                pinned: set(&[A]),
                held_back: set(&[D]),
                rollback_default: None,
                fallback: None,
            },
        })
    );
    let held = LifecycleState {
        held_back: set(&[C]),
        ..LifecycleState::default()
    };
    assert_eq!(
        decide::after_install(&held, C),
        Some(AfterInstall {
            hand_back_default: false,
            state: LifecycleState::default(),
        })
    );
    assert_eq!(decide::after_install(&held, D), None, "nothing to change");
    assert_eq!(decide::after_install(&LifecycleState::default(), C), None);
}

#[test]
fn acknowledging_clears_the_flag_and_keeps_the_version_held_back() {
    let fallback = Fallback {
        failed: C.into(),
        tries: 2,
        running: B.into(),
        time: "2026-12-02T08:00:00Z".into(),
    };
    let flagged = LifecycleState {
        held_back: set(&[C]),
        fallback: Some(fallback.clone()),
        ..LifecycleState::default()
    };
    assert_eq!(
        decide::acknowledge(&flagged),
        Some((
            fallback,
            LifecycleState {
                held_back: set(&[C]),
                ..LifecycleState::default()
            }
        ))
    );
    assert_eq!(decide::acknowledge(&LifecycleState::default()), None);
}
