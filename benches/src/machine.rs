//! The machine a figure was measured on: cores, CPU model and how loaded it was.

use std::fmt;

/// Cores, CPU model and the load average when it was read.
#[derive(Debug, Clone, PartialEq)]
pub struct Machine {
    /// Logical cores this process may use.
    pub cores: usize,
    /// The CPU model name from `/proc/cpuinfo`, or `unknown`.
    pub cpu: String,
    /// The load average when the machine was described.
    pub load: LoadAverage,
}

impl Machine {
    /// Describes this machine now.
    pub fn describe() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find(|line| line.starts_with("model name"))
                    .and_then(|line| line.split_once(':'))
                    .map(|(_, name)| name.trim().to_owned())
            })
            .unwrap_or_else(|| String::from("unknown"));
        Machine {
            cores,
            cpu,
            load: LoadAverage::now(),
        }
    }
}

impl fmt::Display for Machine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} cores, {}, load {}", self.cores, self.cpu, self.load)
    }
}

/// The 1, 5 and 15 minute load averages (`uptime`), as the kernel prints them.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadAverage(pub String);

impl LoadAverage {
    /// The load average now, or `?` where `/proc/loadavg` is missing.
    pub fn now() -> Self {
        let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        let figures: Vec<&str> = text.split_whitespace().take(3).collect();
        if figures.len() == 3 {
            LoadAverage(figures.join(" "))
        } else {
            LoadAverage(String::from("?"))
        }
    }

    /// The 1-minute figure, the one that moves during a measurement.
    pub fn one_minute(&self) -> &str {
        self.0.split_whitespace().next().unwrap_or("?")
    }
}

impl fmt::Display for LoadAverage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
