use super::*;

fn ok(t: ProgType, off: i64, size: u32, write: bool) -> bool {
    layout(t)
        .unwrap()
        .access(off, size, write, fixup_attach_type(t, None))
        .is_some()
}

#[test]
fn skb_families() {
    // cb is writable with any size by socket filters, read only by sk_skb.
    assert!(ok(ProgType::SocketFilter, 48, 8, true));
    assert!(!ok(ProgType::SkSkb, 48, 4, true));
    // A cb access may not run past cb[4].
    assert!(!ok(ProgType::SchedCls, 64, 8, false));
    // Narrow reads of ordinary fields, whole-word stores only.
    assert!(ok(ProgType::SchedCls, 9, 1, false));
    assert!(!ok(ProgType::SchedCls, 8, 2, true));
    // data is a packet pointer for tc, refused to socket filters.
    let tc = layout(ProgType::SchedCls).unwrap();
    assert_eq!(tc.access(76, 4, false, None).unwrap().kind, Kind::Packet);
    assert!(!ok(ProgType::SocketFilter, 76, 4, false));
    assert_eq!(
        layout(ProgType::FlowDissector)
            .unwrap()
            .access(144, 8, false, None)
            .unwrap()
            .kind,
        Kind::FlowKeys
    );
    assert!(!ok(ProgType::FlowDissector, 0, 4, false));
}

#[test]
fn sizes_and_bounds() {
    assert!(!ok(ProgType::SockOps, -4, 4, false));
    assert!(!ok(ProgType::SockOps, 224, 4, false));
    assert!(!ok(ProgType::SockOps, 6, 4, false));
    assert!(ok(ProgType::SockOps, 4, 4, true));
    assert!(ok(ProgType::SockOps, 164, 4, true));
    assert!(!ok(ProgType::SockOps, 8, 4, true));
    assert!(!ok(ProgType::SockOps, 0, 2, false));
}

#[test]
fn attach_types() {
    let sa = layout(ProgType::CgroupSockAddr).unwrap();
    let v4 = Some(AttachType::CgroupInet4Connect);
    let v6 = Some(AttachType::CgroupInet6Connect);
    assert!(sa.access(4, 4, true, v4).is_some());
    assert!(sa.access(4, 4, false, v6).is_none());
    assert!(sa.access(16, 8, true, v6).is_some());
    assert!(sa.access(12, 8, false, v6).is_none());
    // cgroup_sock defaults to sock_create, which may write mark.
    assert!(ok(ProgType::CgroupSock, 16, 4, true));
    let so = layout(ProgType::CgroupSockopt).unwrap();
    assert!(so
        .access(36, 4, false, Some(AttachType::CgroupGetsockopt))
        .is_some());
    assert!(so
        .access(36, 4, false, Some(AttachType::CgroupSetsockopt))
        .is_none());
    assert!(so
        .access(24, 4, true, Some(AttachType::CgroupSetsockopt))
        .is_some());
    assert!(so
        .access(24, 4, true, Some(AttachType::CgroupGetsockopt))
        .is_none());
}

#[test]
fn ports_with_padding() {
    let sk = layout(ProgType::CgroupSock).unwrap();
    assert!(sk.access(48, 4, false, None).is_some());
    assert!(sk.access(49, 1, false, None).is_some());
    assert!(sk.access(50, 2, false, None).is_none());
    let lk = layout(ProgType::SkLookup).unwrap();
    assert!(lk.access(38, 2, false, None).is_some());
    assert_eq!(lk.field("remote_port").unwrap().len, 2);
}

#[test]
fn every_layout_is_in_bounds() {
    for t in ProgType::ALL {
        if let Some(l) = layout(*t) {
            for f in l.fields {
                assert!(f.off < l.size, "{t:?} {}", f.name);
                assert!(
                    f.off + f.len <= l.size.next_multiple_of(8) + 1,
                    "{t:?} {}",
                    f.name
                );
            }
        }
    }
}
