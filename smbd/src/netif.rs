//! The network interfaces FSCTL_QUERY_NETWORK_INTERFACE_INFO lists (MS-SMB2 3.3.5.15.11):
//! the machine's addresses (getifaddrs), with each interface's index, link speed
//! (`/sys/class/net/<name>/speed`) and RSS capability (more than one receive queue), filtered
//! by the `interfaces` setting. [`select`] is the pure part; [`discover`] reads the machine.

use std::net::IpAddr;

/// One entry of the `interfaces` setting: an interface name (`eth0`) or one of its addresses
/// (`192.0.2.10`), with what to report for it instead of what the machine tells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterfaceSpec {
    /// The interface's name or an address of it.
    pub name: String,
    /// The link speed to report, in bits per second.
    pub speed: Option<u64>,
    /// Report the interface RSS capable whatever its receive queues.
    pub rss: bool,
}

impl InterfaceSpec {
    /// Parses `NAME_OR_ADDRESS[;speed=BITS_PER_SECOND][;rss]`.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let mut parts = text.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default();
        if name.is_empty() || name.contains(['/', ' ', '=']) {
            return Err("must start with an interface name or an address");
        }
        let mut spec = Self {
            name: name.to_owned(),
            speed: None,
            rss: false,
        };
        for opt in parts {
            if opt == "rss" {
                spec.rss = true;
            } else if let Some(v) = opt.strip_prefix("speed=") {
                match v.parse::<u64>() {
                    Ok(n) if n > 0 => spec.speed = Some(n),
                    _ => return Err("speed must be a positive number of bits per second"),
                }
            } else {
                return Err("options are speed=BITS_PER_SECOND and rss");
            }
        }
        Ok(spec)
    }

    fn matches(&self, i: &SystemInterface) -> bool {
        self.name == i.name || self.name.parse::<IpAddr>().is_ok_and(|a| a == i.addr)
    }
}

/// One address of one interface, as the machine reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SystemInterface {
    /// The interface's name (`eth0`).
    pub name: String,
    /// Its index (if_nametoindex).
    pub index: u32,
    /// The address.
    pub addr: IpAddr,
    /// Link speed in bits per second, when the driver tells.
    pub speed: Option<u64>,
    /// More than one receive queue.
    pub rss: bool,
}

/// One NETWORK_INTERFACE_INFO entry (MS-SMB2 2.2.32.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkInterface {
    /// IfIndex.
    pub index: u32,
    /// RSS_CAPABLE in Capability.
    pub rss: bool,
    /// LinkSpeed, bits per second.
    pub speed: u64,
    /// The address (IPv6 link-local ones carry the interface index as ScopeId).
    pub addr: IpAddr,
}

/// The LinkSpeed reported when neither the setting nor the driver tells: 1 Gbit/s.
pub const DEFAULT_LINK_SPEED: u64 = 1_000_000_000;

/// The interfaces to list: those `specs` name (all of the machine's when there are none,
/// loopback only when the connection arrived on it, since a remote client cannot use it), in
/// the machine's order. The address the connection `arrived_on` is listed even when nothing
/// matched, so a client always learns one.
pub fn select(
    all: &[SystemInterface],
    specs: &[InterfaceSpec],
    arrived_on: Option<IpAddr>,
) -> Vec<NetworkInterface> {
    let from_loopback = arrived_on.is_some_and(|a| a.is_loopback());
    let mut out: Vec<NetworkInterface> = all
        .iter()
        .filter_map(|i| {
            let spec = if specs.is_empty() {
                if i.addr.is_loopback() && !from_loopback {
                    return None;
                }
                None
            } else {
                Some(specs.iter().find(|s| s.matches(i))?)
            };
            Some(NetworkInterface {
                index: i.index,
                rss: i.rss || spec.is_some_and(|s| s.rss),
                speed: spec
                    .and_then(|s| s.speed)
                    .or(i.speed)
                    .unwrap_or(DEFAULT_LINK_SPEED),
                addr: i.addr,
            })
        })
        .collect();
    if out.is_empty()
        && let Some(addr) = arrived_on
    {
        out.push(NetworkInterface {
            index: 1,
            rss: false,
            speed: DEFAULT_LINK_SPEED,
            addr,
        });
    }
    out
}

/// The machine's interface addresses that are up (getifaddrs), with speed and RSS from
/// `/sys/class/net`. Empty when the machine cannot be asked.
pub fn system_interfaces() -> Vec<SystemInterface> {
    let Ok(list) = if_addrs::get_if_addrs() else {
        return Vec::new();
    };
    list.into_iter()
        .filter(|i| i.is_oper_up() || i.is_loopback())
        .map(|i| {
            let sys = std::path::Path::new("/sys/class/net").join(&i.name);
            SystemInterface {
                index: i.index.unwrap_or(0),
                addr: i.ip(),
                speed: std::fs::read_to_string(sys.join("speed"))
                    .ok()
                    .and_then(|s| parse_sys_speed(&s)),
                rss: std::fs::read_dir(sys.join("queues")).is_ok_and(|d| {
                    d.filter_map(Result::ok)
                        .filter(|e| e.file_name().to_string_lossy().starts_with("rx-"))
                        .count()
                        > 1
                }),
                name: i.name,
            }
        })
        .collect()
}

/// `/sys/class/net/<if>/speed` (Mbit/s; -1 or absent when unknown) in bits per second.
fn parse_sys_speed(text: &str) -> Option<u64> {
    let mbit = text.trim().parse::<i64>().ok()?;
    u64::try_from(mbit)
        .ok()
        .filter(|&m| m > 0)
        .map(|m| m.saturating_mul(1_000_000))
}

/// What the FSCTL answers: [`select`] over [`system_interfaces`].
pub fn discover(specs: &[InterfaceSpec], arrived_on: Option<IpAddr>) -> Vec<NetworkInterface> {
    select(&system_interfaces(), specs, arrived_on)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sys(name: &str, index: u32, addr: &str, speed: Option<u64>) -> SystemInterface {
        SystemInterface {
            name: name.into(),
            index,
            addr: addr.parse().unwrap(),
            speed,
            rss: false,
        }
    }

    fn machine() -> Vec<SystemInterface> {
        vec![
            sys("lo", 1, "127.0.0.1", None),
            sys("eth0", 2, "192.0.2.10", Some(10_000_000_000)),
            sys("eth0", 2, "2001:db8::10", Some(10_000_000_000)),
            sys("eth1", 3, "198.51.100.7", None),
        ]
    }

    #[test]
    fn specs_parse() {
        assert_eq!(
            InterfaceSpec::parse("eth0;speed=25000000000;rss"),
            Ok(InterfaceSpec {
                name: "eth0".into(),
                speed: Some(25_000_000_000),
                rss: true
            })
        );
        assert!(InterfaceSpec::parse("").is_err());
        assert!(InterfaceSpec::parse("eth0;speed=0").is_err());
        assert!(InterfaceSpec::parse("eth0;speed=fast").is_err());
        assert!(InterfaceSpec::parse("eth0;rdma").is_err());
    }

    #[test]
    fn without_specs_every_interface_but_loopback_for_remote_clients() {
        let got = select(&machine(), &[], Some("192.0.2.10".parse().unwrap()));
        let addrs: Vec<String> = got.iter().map(|i| i.addr.to_string()).collect();
        assert_eq!(addrs, ["192.0.2.10", "2001:db8::10", "198.51.100.7"]);
        assert_eq!(got[0].speed, 10_000_000_000);
        assert_eq!(got[2].speed, DEFAULT_LINK_SPEED);
        let local = select(&machine(), &[], Some("127.0.0.1".parse().unwrap()));
        assert_eq!(local.len(), 4);
        assert_eq!(local[0].index, 1);
    }

    #[test]
    fn specs_filter_by_name_or_address_and_override() {
        let specs = [
            InterfaceSpec::parse("eth1;speed=40000000000;rss").unwrap(),
            InterfaceSpec::parse("127.0.0.1").unwrap(),
        ];
        let got = select(&machine(), &specs, Some("198.51.100.7".parse().unwrap()));
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].addr, "127.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!(
            got[1],
            NetworkInterface {
                index: 3,
                rss: true,
                speed: 40_000_000_000,
                addr: "198.51.100.7".parse().unwrap()
            }
        );
    }

    #[test]
    fn the_arrival_address_when_nothing_matches() {
        let specs = [InterfaceSpec::parse("eth9").unwrap()];
        let got = select(&machine(), &specs, Some("192.0.2.10".parse().unwrap()));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].addr, "192.0.2.10".parse::<IpAddr>().unwrap());
        assert!(select(&[], &[], None).is_empty());
    }

    #[test]
    fn sys_speed() {
        assert_eq!(parse_sys_speed("10000\n"), Some(10_000_000_000));
        assert_eq!(parse_sys_speed("-1\n"), None);
        assert_eq!(parse_sys_speed("x"), None);
    }
}
