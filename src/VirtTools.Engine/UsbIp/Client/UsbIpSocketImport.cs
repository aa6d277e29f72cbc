using System.Net.Sockets;
using VirtTools.UsbIp.Protocol;

namespace VirtTools.UsbIp.Client;

/// <summary>An accepted import over TCP: the device record and the connected socket, which this object owns.</summary>
public sealed class UsbIpSocketImport : IUsbIpImport
{
    private readonly Socket _socket;

    internal UsbIpSocketImport(Socket socket, UsbIpDeviceRecord device)
    {
        _socket = socket;
        Device = device;
    }

    public UsbIpDeviceRecord Device { get; }

    /// <summary>The descriptor number of the connected socket in this process, valid until <see cref="Dispose"/>.</summary>
    public int SocketFd => (int)_socket.SafeHandle.DangerousGetHandle();

    /// <summary>
    /// vhci_hcd never probes the server itself: without the dead-peer options a vanished server leaves a ghost port
    /// until the system's 2-hour keepalive. The socket leaves this process's epoll sets, or every packet vhci_hcd
    /// receives would wake this process for as long as the import lasts.
    /// </summary>
    public void PrepareForKernel(UsbIpDeadPeerPolicy deadPeer)
    {
        deadPeer.ApplyTo(_socket);
        ProcessEpollSets.Remove(SocketFd);
    }

    /// <summary>Closes this process's descriptor; no operation is pending, so no shutdown or reset reaches the peer.</summary>
    public void Dispose() => _socket.Dispose();
}
