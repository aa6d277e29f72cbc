using VirtTools.Usb;
using System.Globalization;

namespace VirtTools.UsbIp.Vhci;

/// <summary>
/// One row of a vhci_hcd status file. Current kernels print <c>hub port sta spd dev sockfd local_busid</c>
/// ("ss  0015 006 005 00020002 000003 4-1"); kernels before USB 3 support had no hub column and printed a socket
/// pointer; a controller that is not ready prints sixteen zeros for the socket. Rows are split on whitespace and
/// only the columns that mean the same everywhere are trusted.
/// </summary>
public sealed record VhciStatusRow(VhciHub? Hub, int Port, int StatusCode, int? SpeedCode, int? DeviceId, int? SocketFd, UsbBusId? LocalBusId)
{
    private const int UsedStatus = (int)UsbIpPortStatus.InUse;

    /// <summary>The rows of a status file; the header and lines that are not port rows are skipped.</summary>
    public static IReadOnlyList<VhciStatusRow> Parse(string? text)
    {
        var rows = new List<VhciStatusRow>();
        foreach (var line in (text ?? "").Split('\n'))
            if (TryParse(line, out var row)) rows.Add(row);
        return rows;
    }

    public static bool TryParse(string line, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out VhciStatusRow? row)
    {
        row = null;
        var fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        VhciHub? hub = fields.Length > 0 ? fields[0] switch { "hs" => VhciHub.HighSpeed, "ss" => VhciHub.SuperSpeed, _ => null } : null;
        var rest = hub is null ? fields : fields[1..];
        if (rest.Length < 2 || Decimal(rest[0]) is not int port || Decimal(rest[1]) is not int status) return false;
        if (status != UsedStatus)
        {
            row = new VhciStatusRow(hub, port, status, null, null, null, null);
            return true;
        }
        // In use: spd dev [sockfd | socket pointer] local_busid. The socket column is a descriptor number only
        // in the format that has a hub column.
        var busId = rest.Length >= 5 ? rest[^1] : null;
        int? socket = hub is not null && rest.Length >= 6 ? Decimal(rest[4]) : null;
        row = new VhciStatusRow(hub, port, status,
            rest.Length > 2 ? Decimal(rest[2]) : null,
            rest.Length > 3 && int.TryParse(rest[3], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var devid) ? devid : null,
            socket,
            UsbBusId.TryParse(busId, out var localBusId) ? localBusId : null);
        return true;
    }

    private static int? Decimal(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;
}
