//! `eddy bench`: being written.
use clap::Args;

#[derive(Debug, Args)]
pub struct BenchArgs {}

pub async fn run(_args: BenchArgs) -> anyhow::Result<()> {
    anyhow::bail!("eddy bench is not written yet")
}
