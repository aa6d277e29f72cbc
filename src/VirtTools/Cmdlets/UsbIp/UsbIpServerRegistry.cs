using System.Collections.Concurrent;
using VirtTools.UsbIp.Server;

namespace VirtTools.Commands.UsbIp;

/// <summary>The servers Start-UsbIpServer started in this process, so Stop-UsbIpServer can find them.</summary>
internal static class UsbIpServerRegistry
{
    private static readonly ConcurrentDictionary<UsbIpServer, byte> Running = new();

    public static void Add(UsbIpServer server) => Running[server] = 0;

    public static bool Remove(UsbIpServer server) => Running.TryRemove(server, out _);

    public static IReadOnlyList<UsbIpServer> All => Running.Keys.OrderBy(s => s.StartTime).ToList();
}
