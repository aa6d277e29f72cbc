using System.Net.Sockets;

namespace VirtTools.UsbIp.Server;

/// <summary>Gives an accepted connection to usbip-host for one device. Throws IOException when the kernel refuses it.</summary>
public interface IUsbIpSocketHandoff
{
    void HandOver(string busId, Socket socket);

    /// <summary>
    /// A TLS import: usbip-host takes <paramref name="kernelEnd"/>, a local socket whose traffic a relay carries over
    /// <paramref name="network"/>, the client's TCP connection. By default the network is left as it is.
    /// </summary>
    void HandOverRelayed(string busId, Socket kernelEnd, Socket network) => HandOver(busId, kernelEnd);
}
