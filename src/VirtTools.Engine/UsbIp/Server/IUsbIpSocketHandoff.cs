using System.Net.Sockets;

namespace VirtTools.UsbIp.Server;

/// <summary>Gives an accepted connection to usbip-host for one device. Throws IOException when the kernel refuses it.</summary>
public interface IUsbIpSocketHandoff
{
    void HandOver(string busId, Socket socket);
}
