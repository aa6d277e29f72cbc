using System.Globalization;
using System.Net.Sockets;
using VirtTools.Sysfs;

namespace VirtTools.UsbIp.Server;

/// <summary>
/// The kernel hand-off usbipd does: write the socket's file descriptor, "&lt;fd&gt;\n", to the device's usbip_sockfd.
/// usbip-host looks the number up in the writing process's fd table (sockfd_lookup), insists on a SOCK_STREAM
/// socket and keeps its own reference to the file, then runs the URB traffic on it in kernel threads. So the fd
/// must be one this process owns at the moment of the write, and afterwards the process may close its fd: that
/// drops only our reference, the connection lives on in the kernel until the client detaches.
/// Before the write the socket gets its <see cref="UsbIpDeadPeerPolicy"/>: usbip-host never probes the client itself,
/// so a client gone without a FIN would hold the device "in use" until the system's 2-hour keepalive. And it leaves
/// this process's epoll sets (<see cref="ProcessEpollSets"/>): every packet usbip-host receives would wake the daemon.
/// </summary>
public sealed class SysfsSocketHandoff : IUsbIpSocketHandoff
{
    private readonly SystemRoot _root;
    private readonly UsbIpDeadPeerPolicy _deadPeer;

    public SysfsSocketHandoff(SystemRoot root, UsbIpDeadPeerPolicy? deadPeer = null)
    {
        _root = root;
        _deadPeer = deadPeer ?? UsbIpDeadPeerPolicy.Default;
    }

    public void HandOver(string busId, Socket socket)
    {
        _deadPeer.ApplyTo(socket);
        ProcessEpollSets.Remove((int)socket.SafeHandle.DangerousGetHandle());
        Write(busId, socket);
    }

    /// <summary>The dead-peer policy goes on the TCP connection the relay reads: on the local socket it would mean nothing.</summary>
    public void HandOverRelayed(string busId, Socket kernelEnd, Socket network)
    {
        _deadPeer.ApplyTo(network);
        Write(busId, kernelEnd);
    }

    private void Write(string busId, Socket socket)
    {
        var fd = socket.SafeHandle.DangerousGetHandle().ToInt64();
        // One write of the whole line, as the kernel's store() parses exactly what one write(2) brings; under -Root
        // never through a link that leads out of the tree.
        File.WriteAllText(_root.ResolveForWrite($"/sys/bus/usb/devices/{busId}/usbip_sockfd"), fd.ToString(CultureInfo.InvariantCulture) + "\n");
    }
}
