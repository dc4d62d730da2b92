//! `update-center-flood CALLS`: sends CALLS read calls to the helper at once over one system
//! bus connection (every read method in turn, authorised or not) and waits for every answer;
//! prints how many succeeded. The flood test of `tests/api.rs` runs one per user (setpriv), so
//! that the calls come from several uids without a process per call.

use update_center_client::UpdateCenterProxy;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let calls: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(100);
    let connection = zbus::Connection::system().await?;
    let proxy = UpdateCenterProxy::new(&connection).await?;
    let one = |i: usize| {
        let proxy = proxy.clone();
        async move {
            match i % 5 {
                0 => proxy.list_versions().await.is_ok(),
                1 => proxy.get_settings().await.is_ok(),
                2 => proxy.list_warnings().await.is_ok(),
                3 => proxy.history(0, 0, 20).await.is_ok(),
                _ => proxy.changelog("", "").await.is_ok(),
            }
        }
    };
    let answers = futures_util::future::join_all((0..calls).map(one)).await;
    println!(
        "{} of {calls} calls succeeded",
        answers.iter().filter(|ok| **ok).count()
    );
    Ok(())
}
