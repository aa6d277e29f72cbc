using System.Net.Sockets;
using VirtTools.UsbIp.Client;
using VirtTools.UsbIp.Protocol;

namespace VirtTools.UsbIp.Tls;

/// <summary>
/// An import over TLS: vhci_hcd cannot read TLS, so it is given one end of a local socket pair, and once it has taken
/// it (<see cref="Attached"/>) a relay carries the traffic between the other end and the TLS stream, for as long as
/// this process lives (see <see cref="UsbIpClientRelays"/>). Disposed before that, it closes everything: the server
/// sees the connection end and gives its device back.
/// </summary>
internal sealed class RelayedImport : IUsbIpImport
{
    private readonly RelayConnection _network;
    private readonly Socket _kernelEnd;
    private readonly Socket _relayEnd;
    private readonly string _description;
    private bool _relaying;

    public RelayedImport(RelayConnection network, UsbIpDeviceRecord device, string description)
    {
        _network = network;
        (_kernelEnd, _relayEnd) = LocalSocketPair.Create();
        Device = device;
        _description = description;
    }

    public UsbIpDeviceRecord Device { get; }

    /// <summary>The local socket vhci_hcd is given; the TCP connection stays with the relay.</summary>
    public int SocketFd => (int)_kernelEnd.SafeHandle.DangerousGetHandle();

    /// <summary>On the TCP connection the relay reads: the local socket has no peer to lose.</summary>
    public void PrepareForKernel(UsbIpDeadPeerPolicy deadPeer) => deadPeer.ApplyTo(_network.Socket);

    public void Attached()
    {
        _relaying = true;
        UsbIpClientRelays.Start(_network, _relayEnd, _description);
    }

    public void Dispose()
    {
        // vhci_hcd holds its own reference to the local socket: ours goes in any case.
        _kernelEnd.Dispose();
        if (_relaying) return;
        _relayEnd.Dispose();
        _network.Tls.Dispose(); // the connection and its socket with it
    }
}
