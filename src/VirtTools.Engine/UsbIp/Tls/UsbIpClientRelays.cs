using System.Net.Sockets;

namespace VirtTools.UsbIp.Tls;

/// <summary>
/// The TLS relays of the devices this process attached. They live as long as the process: the agent and a long-running
/// PowerShell session keep their devices; a process that exits drops them (vhci_hcd reads EOF and frees the port).
/// </summary>
public static class UsbIpClientRelays
{
    /// <summary>Called with each relay's end and what it carried ("server:port busid"); the agent logs it.</summary>
    public static event Action<string, UsbIpRelayEnd>? Ended;

    internal static void Start(RelayConnection connection, Socket relayEnd, string description) => _ = RunAsync(connection, relayEnd, description);

    private static async Task RunAsync(RelayConnection connection, Socket relayEnd, string description)
    {
        var end = await UsbIpRelay.RunAsync(connection, relayEnd, CancellationToken.None).ConfigureAwait(false);
        Ended?.Invoke(description, end);
    }
}
