//! The microphone and speaker of a call on this machine, paired through one
//! echo canceller: the speaker tells it what plays, and the microphone's
//! capture is cleaned against that, so the other side does not hear itself
//! come back from the room. The app and the CLI's `--audio device` both
//! use it.

use std::sync::Mutex;

use convene_media::{
    AudioProcessor, AudioSink, AudioSource, DeviceChoice, EchoCancelled, EchoReference,
    FailoverInput, FailoverOutput, MediaError,
};

use super::media::AudioInput;

/// The chosen microphone and speaker (`None`: the system default). A call's
/// streams follow the choices, so a new choice switches them at once, and
/// reopen a device that goes away.
#[derive(Default)]
pub struct SoundDevices {
    input: DeviceChoice,
    output: DeviceChoice,
    /// Made for the first call and kept: both ends of every call share it.
    echo: Mutex<Option<AudioProcessor>>,
}

impl SoundDevices {
    pub fn new(input: Option<String>, output: Option<String>) -> Self {
        Self {
            input: DeviceChoice::new(input),
            output: DeviceChoice::new(output),
            echo: Mutex::default(),
        }
    }

    /// The microphone and speaker, for the call in progress as for the next.
    pub fn select(&self, input: Option<String>, output: Option<String>) {
        self.input.set(input);
        self.output.set(output);
    }

    pub fn input(&self) -> &DeviceChoice {
        &self.input
    }

    pub fn output(&self) -> &DeviceChoice {
        &self.output
    }

    /// The chosen microphone, with what the speaker plays taken out.
    pub fn microphone(&self) -> Result<AudioInput, MediaError> {
        let device = FailoverInput::open(self.input.clone())?;
        let source: Box<dyn AudioSource> = match self.echo_canceller() {
            Some(processor) => Box::new(EchoCancelled {
                microphone: device,
                processor,
            }),
            None => Box::new(device),
        };
        Ok(AudioInput {
            source,
            realtime: true,
        })
    }

    /// The chosen speaker, telling the echo canceller what it plays.
    pub fn speaker(&self) -> Result<Box<dyn AudioSink>, MediaError> {
        let device = FailoverOutput::open(self.output.clone())?;
        Ok(match self.echo_canceller() {
            Some(processor) => Box::new(EchoReference {
                speaker: device,
                processor,
            }),
            None => Box::new(device),
        })
    }

    /// The shared canceller; none if the audio processing module cannot
    /// start, and the call goes on without (the person may hear an echo).
    fn echo_canceller(&self) -> Option<AudioProcessor> {
        let mut echo = self.echo.lock().unwrap_or_else(|e| e.into_inner());
        if echo.is_none() {
            match AudioProcessor::new() {
                Ok(processor) => *echo = Some(processor),
                Err(error) => tracing::warn!(%error, "no echo cancellation"),
            }
        }
        echo.clone()
    }
}
