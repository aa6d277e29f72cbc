using System.Collections.Concurrent;
using System.Net.Sockets;

namespace VirtTools.UsbIp.Tls;

/// <summary>
/// The TLS relays of the devices this process attached. They live as long as the process: the agent and a long-running
/// PowerShell session keep their devices; a process that exits drops them (vhci_hcd reads EOF and frees the port).
/// </summary>
public static class UsbIpClientRelays
{
    private static readonly ConcurrentDictionary<long, string> Running = new();
    private static long _started;

    /// <summary>The relays running now, by what they carry ("server:port busid").</summary>
    public static IReadOnlyCollection<string> Active => Running.Values.ToArray();

    /// <summary>Called with each relay's end (the agent logs it).</summary>
    public static event Action<string, UsbIpRelayEnd>? Ended;

    internal static void Start(Stream tls, Socket relayEnd, string description)
    {
        var id = Interlocked.Increment(ref _started);
        Running[id] = description;
        _ = RunAsync(id, tls, relayEnd, description);
    }

    private static async Task RunAsync(long id, Stream tls, Socket relayEnd, string description)
    {
        try
        {
            var end = await UsbIpRelay.RunAsync(tls, relayEnd, CancellationToken.None).ConfigureAwait(false);
            Ended?.Invoke(description, end);
        }
        finally
        {
            Running.TryRemove(id, out _);
        }
    }
}
