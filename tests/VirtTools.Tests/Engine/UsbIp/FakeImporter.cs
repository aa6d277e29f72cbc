using VirtTools.Usb;
using VirtTools.UsbIp;
using VirtTools.UsbIp.Client;
using VirtTools.UsbIp.Protocol;

namespace VirtTools.Tests.Engine.UsbIp;

/// <summary>Stands in for the network half of an attach: the server "agreed" to give this device; the socket is a number.</summary>
internal sealed class FakeImporter(UsbIpDeviceRecord device, int socketFd = 42) : IUsbIpImporter
{
    public int Imports { get; private set; }

    /// <summary>Whether the attacher closed its end (disposed the import).</summary>
    public bool Closed { get; private set; }

    /// <summary>The dead-peer policy the attacher set on the socket, and whether it did so before reading the descriptor to hand over.</summary>
    public UsbIpDeadPeerPolicy? PreparedWith { get; private set; }

    public bool PreparedBeforeHandOver { get; private set; }

    public Task<IUsbIpImport> ImportAsync(string computerName, int tcpPort, string busId, TimeSpan timeout, CancellationToken cancellation)
    {
        Imports++;
        return Task.FromResult<IUsbIpImport>(new Import(this));
    }

    /// <summary>A remote device record with the given busid and speed, bus 2 device 3 (devid 131075).</summary>
    public static UsbIpDeviceRecord Device(string busId = "1-1", UsbSpeed speed = UsbSpeed.High) => new()
    {
        Path = "/sys/devices/pci0000:00/0000:00:04.0/usb2/" + busId,
        BusId = busId,
        BusNumber = 2,
        DeviceNumber = 3,
        Speed = speed,
        VendorId = 0x46f4,
        ProductId = 0x0001,
    };

    public UsbIpDeviceRecord Record { get; } = device;

    public int SocketFd { get; } = socketFd;

    private sealed class Import(FakeImporter owner) : IUsbIpImport
    {
        public UsbIpDeviceRecord Device => owner.Record;

        public int SocketFd
        {
            get
            {
                owner.PreparedBeforeHandOver = owner.PreparedWith is not null;
                return owner.SocketFd;
            }
        }

        public void PrepareForKernel(UsbIpDeadPeerPolicy deadPeer) => owner.PreparedWith = deadPeer;

        public void Dispose() => owner.Closed = true;
    }
}
