//! An in-process network for call signaling: client call machines
//! ([`convene_core::call::machine`], each in a simulated device) and
//! convene-server's call registry ([`convene_server::call::Registry`]),
//! stepped on one simulated clock. Frames go from a device to the registry
//! and from the registry to devices exactly as the live channel would
//! carry them, timers fire at their time, and nothing sleeps: a call that
//! rings out its 45 s runs in microseconds.

use std::time::{Duration, Instant, UNIX_EPOCH};

use convene_core::call::machine::{Command, PeerState};
use convene_core::call::sim::{SimClock, SimDevice};
use convene_core::call::{CallStage, CallView, EndReason};
use convene_proto::live::ServerFrame;
use convene_server::call::{CallSettings, Caller, Input, Output, Registry, SocketId, Timer};
use convene_server::store::CallRow;
use uuid::Uuid;

/// A device in the network: whose it is and its socket while connected.
#[derive(Debug)]
pub struct Device {
    pub sim: SimDevice,
    pub user: Uuid,
    pub name: String,
    pub socket: Option<SocketId>,
}

/// Which device: an index into [`CallNet::devices`].
pub type DeviceId = usize;

/// The network: devices, the registry, pending timers and what was stored.
#[derive(Debug)]
pub struct CallNet {
    pub clock: SimClock,
    pub registry: Registry,
    pub devices: Vec<Device>,
    pub records: Vec<CallRow>,
    timers: Vec<(Instant, Timer)>,
    next_socket: SocketId,
    calls_placed: u128,
}

impl CallNet {
    pub fn new(settings: &CallSettings) -> Self {
        Self {
            clock: SimClock::new(),
            registry: Registry::new(settings),
            devices: Vec::new(),
            records: Vec::new(),
            timers: Vec::new(),
            next_socket: 1,
            calls_placed: 0,
        }
    }

    /// A connected device of the person `name` (the same name, the same
    /// person).
    pub fn device(&mut self, name: &str) -> DeviceId {
        let user = self
            .devices
            .iter()
            .find(|d| d.name == name)
            .map(|d| d.user)
            .unwrap_or_else(|| Uuid::from_u128(self.devices.len() as u128 + 1));
        let id = self.devices.len();
        self.devices.push(Device {
            sim: SimDevice::new(&format!("{name}-{id}")),
            user,
            name: name.to_owned(),
            socket: None,
        });
        self.connect(id);
        id
    }

    /// The device's live channel (re)connects on a new socket.
    pub fn connect(&mut self, device: DeviceId) {
        let socket = self.next_socket;
        self.next_socket += 1;
        self.devices[device].socket = Some(socket);
        let user = self.devices[device].user;
        self.registry_input(Input::SocketOpened { user, socket });
        let now = self.clock.now();
        self.devices[device].sim.reconnected(now);
        self.flush();
    }

    /// The device's socket drops: its frames fail until it reconnects.
    pub fn disconnect(&mut self, device: DeviceId) {
        let Some(socket) = self.devices[device].socket.take() else {
            return;
        };
        self.devices[device].sim.online = false;
        self.registry_input(Input::SocketClosed { socket });
        self.flush();
    }

    /// `caller` calls the person `callee`; returns the call id.
    pub fn place(&mut self, caller: DeviceId, callee: &str, video: bool) -> String {
        self.calls_placed += 1;
        let call_id = Uuid::from_u128(0xca11_0000 + self.calls_placed).to_string();
        let callee = self.user_of(callee).to_string();
        let now = self.clock.now();
        self.devices[caller]
            .sim
            .place_with_id(now, &call_id, &callee, video);
        self.flush();
        call_id
    }

    pub fn command(&mut self, device: DeviceId, command: Command) {
        let now = self.clock.now();
        self.devices[device].sim.command(now, command);
        self.flush();
    }

    pub fn answer(&mut self, device: DeviceId, video: bool) {
        let call_id = self.call_id(device).expect("a call rings there");
        self.command(device, Command::Answer { call_id, video });
    }

    pub fn hang_up(&mut self, device: DeviceId) {
        self.command(device, Command::HangUp);
    }

    /// The peer connection of these devices reaches `state` (as ICE would
    /// tell both ends).
    pub fn media(&mut self, devices: &[DeviceId], state: PeerState) {
        let now = self.clock.now();
        for &device in devices {
            self.devices[device].sim.peer_state(now, state);
        }
        self.flush();
    }

    /// Lets `duration` go by, firing every timer of the registry and every
    /// wake-up of the devices at its time.
    pub fn run_for(&mut self, duration: Duration) {
        let end = self.clock.now().at + duration;
        loop {
            let device_wake = self
                .devices
                .iter()
                .filter_map(|d| d.sim.machine.poll_timeout())
                .min();
            let timer = self.timers.iter().map(|(at, _)| *at).min();
            let next = match (device_wake, timer) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => match a.or(b) {
                    Some(at) => at,
                    None => break,
                },
            };
            if next > end {
                break;
            }
            let now = self.clock.now().at;
            self.clock.advance(next.saturating_duration_since(now));
            let due: Vec<Timer> = self
                .timers
                .iter()
                .filter(|(at, _)| *at <= next)
                .map(|(_, t)| *t)
                .collect();
            self.timers.retain(|(at, _)| *at > next);
            for timer in due {
                self.registry_input(Input::Timer(timer));
            }
            let now = self.clock.now();
            for device in &mut self.devices {
                device.sim.advance(now);
            }
            self.flush();
        }
        let now = self.clock.now().at;
        self.clock.advance(end.saturating_duration_since(now));
    }

    pub fn user_of(&self, name: &str) -> Uuid {
        self.devices
            .iter()
            .find(|d| d.name == name)
            .map(|d| d.user)
            .unwrap_or_else(|| panic!("nobody called {name}"))
    }

    pub fn call_id(&self, device: DeviceId) -> Option<String> {
        self.devices[device].sim.call_id()
    }

    /// The last view the device showed.
    pub fn view(&self, device: DeviceId) -> Option<&CallView> {
        self.devices[device].sim.view()
    }

    pub fn stage(&self, device: DeviceId) -> Option<CallStage> {
        self.view(device).map(|v| v.stage)
    }

    /// How the device's last call ended, if it did.
    pub fn ended(&self, device: DeviceId) -> Option<EndReason> {
        self.view(device).and_then(|v| v.ended)
    }

    /// The record of a call as last stored.
    pub fn record(&self, call_id: &str) -> Option<&CallRow> {
        let id = Uuid::parse_str(call_id).ok()?;
        self.records.iter().rev().find(|r| r.id == id)
    }

    /// Carries frames until no device has one to send.
    fn flush(&mut self) {
        loop {
            let mut sent_any = false;
            for device in 0..self.devices.len() {
                let frames = self.devices[device].sim.take_sent();
                let Some(socket) = self.devices[device].socket else {
                    continue;
                };
                for frame in frames {
                    sent_any = true;
                    let user = self.devices[device].user;
                    let input = Input::Frame {
                        user,
                        socket,
                        caller: Caller {
                            name: Some(self.devices[device].name.clone()),
                            colleagues: self.devices.iter().map(|d| d.user).collect(),
                        },
                        callee_online: true,
                        frame,
                    };
                    let input = self.with_callee_online(input);
                    self.registry_input(input);
                }
            }
            if !sent_any {
                break;
            }
        }
    }

    /// Only the hub knows who is connected; here, the devices do.
    fn with_callee_online(&self, input: Input) -> Input {
        let Input::Frame {
            user,
            socket,
            caller,
            frame,
            ..
        } = input
        else {
            return input;
        };
        let callee_online = match &frame {
            convene_proto::live::ClientFrame::CallInvite(invite) => {
                convene_server::call::callee_of(invite).is_some_and(|callee| {
                    self.devices
                        .iter()
                        .any(|d| d.user == callee && d.socket.is_some())
                })
            }
            _ => false,
        };
        Input::Frame {
            user,
            socket,
            caller,
            callee_online,
            frame,
        }
    }

    fn registry_input(&mut self, input: Input) {
        let now = registry_now(&self.clock);
        for output in self.registry.handle(now, input) {
            match output {
                Output::ToSocket(socket, frame) => {
                    if let Some(device) = self.devices.iter().position(|d| d.socket == Some(socket))
                    {
                        self.deliver(device, frame);
                    }
                }
                Output::ToUsers {
                    users,
                    frame,
                    except,
                } => {
                    let to: Vec<DeviceId> = (0..self.devices.len())
                        .filter(|&d| {
                            let device = &self.devices[d];
                            users.contains(&device.user)
                                && device.socket.is_some()
                                && device.socket != except
                        })
                        .collect();
                    for device in to {
                        self.deliver(device, frame.clone());
                    }
                }
                Output::Record(row) => self.records.push(row),
                Output::Wake { at, timer } => self.timers.push((at, timer)),
            }
        }
    }

    fn deliver(&mut self, device: DeviceId, frame: ServerFrame) {
        let now = self.clock.now();
        self.devices[device].sim.frame(now, frame);
    }
}

/// The registry's view of the simulated clock.
fn registry_now(clock: &SimClock) -> convene_server::call::Now {
    let now = clock.now();
    convene_server::call::Now {
        at: now.at,
        wall: UNIX_EPOCH + Duration::from_secs_f64(now.unix_ms / 1000.0),
    }
}
