using System.Collections.Concurrent;
using VirtTools.Usb;
using VirtTools.UsbIp.Host;
using VirtTools.UsbIp.Server;

namespace VirtTools.Commands.UsbIp;

/// <summary>
/// The servers Start-UsbIpServer started in this process, each with the keeper of its claimed ports (-ClaimPort) if
/// any, so Stop-UsbIpServer can find them and Remove-UsbIpExport removes an export on a claimed port through its keeper.
/// </summary>
internal static class UsbIpServerRegistry
{
    private static readonly ConcurrentDictionary<UsbIpServer, ClaimedPortKeeper?> Running = new();

    public static void Add(UsbIpServer server, ClaimedPortKeeper? keeper) => Running[server] = keeper;

    /// <summary>Takes the server off the list; its keeper, if any, for the caller to stop.</summary>
    public static bool Remove(UsbIpServer server, out ClaimedPortKeeper? keeper) => Running.TryRemove(server, out keeper);

    public static IReadOnlyList<UsbIpServer> All => Running.Keys.OrderBy(s => s.StartTime).ToList();

    /// <summary>The keeper of a server in this process that reserves this device's port; null when none does.</summary>
    public static ClaimedPortKeeper? KeeperReserving(UsbBusId busId) => Running.Values.FirstOrDefault(k => k is not null && k.Reserves(busId));
}
