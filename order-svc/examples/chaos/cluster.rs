//! RabbitMQ nodes of the suite's own, on loopback ports the OS picks: one to
//! begin with (stopped and started, and traced, without touching anyone
//! else's broker), grown to a three-node cluster for the scenario that kills
//! a node. Every node runs the machine's `rabbitmq-server` with its own name,
//! ports, data folder and no plugins, sharing one Erlang cookie that the
//! suite writes, so that `rabbitmqctl` can manage them.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use anyhow::{Context, bail};
use tokio::process::{Child, Command};

/// How long a node may take to boot on a loaded two-core machine.
const BOOT_WITHIN: Duration = Duration::from_secs(120);

/// The suite's nodes; the first is the one services are pointed at first.
pub struct Cluster {
    sbin: PathBuf,
    work: PathBuf,
    run: String,
    nodes: Vec<Node>,
}

/// One running (or killed) node.
pub struct Node {
    name: String,
    port: u16,
    folder: PathBuf,
    process: Option<Child>,
}

impl Cluster {
    /// Starts the first node.
    pub async fn start(sbin: &Path, work: &Path, run: &str) -> anyhow::Result<Self> {
        let cookie = work.join(".erlang.cookie");
        if !cookie.exists() {
            std::fs::write(&cookie, uuid::Uuid::new_v4().simple().to_string())?;
            set_owner_only(&cookie)?;
        }
        std::fs::write(work.join("enabled_plugins"), "[].\n")?;
        let mut cluster = Self {
            sbin: sbin.to_owned(),
            work: work.to_owned(),
            run: run.to_owned(),
            nodes: Vec::new(),
        };
        cluster.add_node().await?;
        Ok(cluster)
    }

    /// Adds nodes, each joined to the first, until there are `count`.
    pub async fn grow_to(&mut self, count: usize) -> anyhow::Result<()> {
        while self.nodes.len() < count {
            self.add_node().await?;
            let first = self.nodes[0].name.clone();
            let joining = self.nodes.len() - 1;
            self.ctl(joining, &["stop_app"]).await?;
            self.ctl(joining, &["join_cluster", &first]).await?;
            self.ctl(joining, &["start_app"]).await?;
        }
        Ok(())
    }

    async fn add_node(&mut self) -> anyhow::Result<()> {
        let index = self.nodes.len() + 1;
        let name = format!("chaos{index}-{}@localhost", self.run);
        let folder = self.work.join(format!("node{index}"));
        std::fs::create_dir_all(&folder)?;
        let port = free_port()?;
        let log = std::fs::File::create(folder.join("server.out"))?;
        let process = Command::new(self.sbin.join("rabbitmq-server"))
            .env("HOME", &self.work)
            .env("RABBITMQ_NODENAME", &name)
            .env("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1")
            .env("RABBITMQ_NODE_PORT", port.to_string())
            .env("RABBITMQ_DIST_PORT", free_port()?.to_string())
            .env("RABBITMQ_MNESIA_BASE", folder.join("data"))
            .env("RABBITMQ_LOG_BASE", folder.join("log"))
            .env("RABBITMQ_PID_FILE", folder.join("pid"))
            .env(
                "RABBITMQ_ENABLED_PLUGINS_FILE",
                self.work.join("enabled_plugins"),
            )
            .env("RABBITMQ_CONFIG_FILE", folder.join("none"))
            .stdout(log.try_clone()?)
            .stderr(log)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| {
                format!("cannot run {}", self.sbin.join("rabbitmq-server").display())
            })?;
        self.nodes.push(Node {
            name,
            port,
            folder,
            process: Some(process),
        });
        let pid_file = self.nodes[index - 1].folder.join("pid");
        let within = BOOT_WITHIN.as_secs().to_string();
        let pid_file = pid_file.to_string_lossy().into_owned();
        self.ctl(index - 1, &["wait", &pid_file, "--timeout", &within])
            .await
            .with_context(|| format!("node {index} did not boot (see its server.out)"))?;
        Ok(())
    }

    /// Runs `rabbitmqctl` against node `index` (0-based); its output.
    pub async fn ctl(&self, index: usize, args: &[&str]) -> anyhow::Result<String> {
        let node = &self.nodes[index];
        let output = Command::new(self.sbin.join("rabbitmqctl"))
            .env("HOME", &self.work)
            .arg("-q")
            .arg("-n")
            .arg(&node.name)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .await?;
        if !output.status.success() {
            bail!(
                "rabbitmqctl {} on {}: {}{}",
                args.join(" "),
                node.name,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// `amqp://` URL of node `index` (0-based).
    pub fn url(&self, index: usize) -> String {
        format!(
            "amqp://guest:guest@127.0.0.1:{}/%2f",
            self.nodes[index].port
        )
    }

    /// How many nodes the cluster has (running or killed).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True while the first node has not been killed.
    pub fn first_is_running(&self) -> bool {
        self.nodes
            .first()
            .is_some_and(|node| node.process.is_some())
    }

    /// Kills node `index` (0-based) with SIGKILL: the machine it runs on is gone.
    pub async fn kill(&mut self, index: usize) -> anyhow::Result<()> {
        let node = &mut self.nodes[index];
        node.kill_beam();
        if let Some(mut process) = node.process.take() {
            let _ = process.kill().await;
        }
        Ok(())
    }

    /// Stops every node.
    pub async fn stop(&mut self) {
        for index in 0..self.nodes.len() {
            let _ = self.kill(index).await;
        }
    }
}

impl Node {
    /// The Erlang VM's pid, from the pid file (the launcher is a script).
    fn kill_beam(&self) {
        if let Ok(pid) = std::fs::read_to_string(self.folder.join("pid")) {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", pid.trim()])
                .stderr(Stdio::null())
                .status();
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if self.process.is_some() {
            self.kill_beam();
        }
    }
}

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

fn set_owner_only(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o400))?;
    Ok(())
}
