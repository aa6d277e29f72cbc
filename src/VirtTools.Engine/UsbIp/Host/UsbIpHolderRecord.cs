using System.Globalization;
using System.Net;
using System.Text.Json.Serialization;
using System.Text.Json;
using VirtTools.Diagnostics;
using VirtTools.State;
using VirtTools.Sysfs;
using VirtTools.Usb;
using VirtTools.UsbIp.Protocol;
using VirtTools.UsbIp.Tls;

namespace VirtTools.UsbIp.Host;

/// <summary>
/// Who holds an exported device: written by the managed server when it hands the device to usbip-host, because the
/// kernel keeps only the socket and says nothing of its peer. One small JSON file per bus id under
/// /run/virttools/usbip-holders (mode 0600 in a 0700 folder: a client's address and certificate are not everyone's
/// business, so without root Get-UsbIpExport shows no client). Gone after a reboot, like the export itself.
/// </summary>
public sealed record UsbIpHolderRecord
{
    public const string Directory = "/run/virttools/usbip-holders";

    /// <summary>A record is a few hundred bytes; a file bigger than this was not written by VirtTools.</summary>
    public const int MaxFileBytes = 4096;

    /// <summary>How much of a certificate subject is kept (the server log's limit for certificate text).</summary>
    public const int MaxSubjectLength = 400;

    private const UnixFileMode FolderMode = (UnixFileMode)0b111_000_000;
    private const UnixFileMode ParentMode = (UnixFileMode)0b111_101_101;

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public required string BusId { get; init; }

    /// <summary>The client's IP address, as the server accepted it.</summary>
    public required string Address { get; init; }

    public required int Port { get; init; }

    /// <summary>The subject of the client's verified certificate; null when it came without TLS or a certificate.</summary>
    public string? Subject { get; init; }

    /// <summary>"sha256:HEX" of the client's certificate; null as <see cref="Subject"/>.</summary>
    public string? Fingerprint { get; init; }

    /// <summary>The server's process id on this machine (the server runs here whatever the root).</summary>
    public required int ServerPid { get; init; }

    /// <summary>When that process started (<see cref="ProcessStartTime"/>): a PID reused by another process does not count as the server.</summary>
    public required long ServerStartTime { get; init; }

    /// <summary>When the device was handed over (UTC).</summary>
    public required DateTime Time { get; init; }

    /// <summary>"127.0.0.1:50123", "[::1]:50123".</summary>
    [JsonIgnore]
    public string Endpoint => IPAddress.TryParse(Address, out var ip)
        ? new IPEndPoint(ip, Port).ToString()
        : Address + ":" + Port.ToString(CultureInfo.InvariantCulture);

    /// <summary>Who holds the device in one word: its certificate's subject (or fingerprint when the subject is empty), else its address and port.</summary>
    [JsonIgnore]
    public string Client => Subject is { Length: > 0 } ? Subject : Fingerprint ?? Endpoint;

    /// <summary>The record for a client that came over TLS with a certificate, or without (<paramref name="identity"/> null).</summary>
    public static UsbIpHolderRecord For(string busId, IPEndPoint client, UsbIpClientIdentity? identity, DateTime now) => new()
    {
        BusId = busId,
        Address = (client.Address.IsIPv4MappedToIPv6 ? client.Address.MapToIPv4() : client.Address).ToString(),
        Port = client.Port,
        Subject = identity is null ? null : Cut(identity.Subject),
        Fingerprint = identity is null ? null : CertificateFingerprint.Prefix + Convert.ToHexString(identity.Fingerprint).ToLowerInvariant(),
        ServerPid = Environment.ProcessId,
        ServerStartTime = ProcessStartTime.Of(Environment.ProcessId) ?? 0,
        Time = now.ToUniversalTime(),
    };

    /// <summary>What is wrong with a field, or null: the bus id names a file, the rest reaches a screen.</summary>
    public string? Problem() =>
        RecordField.UsbBusId("busId", BusId)
        ?? (IPAddress.TryParse(Address, out _) && !Address.Any(char.IsControl) ? null : $"address '{RecordField.Printable(Address ?? "")}' is not an IP address")
        ?? (Port is > 0 and <= 65535 ? null : $"port {Port} is not a TCP port")
        ?? (Subject is null || Subject.Length <= MaxSubjectLength && !Subject.Any(char.IsControl) ? null : "subject holds control characters or is too long")
        ?? (Fingerprint is null || CertificateFingerprint.Parse(Fingerprint, out _) is not null ? null : $"fingerprint '{RecordField.Printable(Fingerprint)}' is not sha256:HEX")
        ?? (ServerPid > 0 ? null : $"serverPid {ServerPid} is not a process id")
        ?? (ServerStartTime > 0 ? null : "serverStartTime is not known (/proc/PID/stat could not be read)");

    /// <summary>Writes the record for its bus id, replacing any older one, safely inside the root (<see cref="AtomicFile"/>).</summary>
    public void Write(SystemRoot root)
    {
        if (Problem() is { } problem)
            throw new VirtToolsException(UsbIpErrors.ExportRecordInvalidId, FailureKind.InvalidArgument,
                $"Refusing to record who holds {RecordField.Printable(BusId ?? "")} in {Directory}: {problem}.", "Nothing was written.", BusId);
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("USB/IP holder records exist on Linux only.");
        var folder = root.ResolveForWrite(Directory);
        if (!System.IO.Directory.Exists(folder))
        {
            // The parent holds public records (0755); only this folder is root's alone.
            var parent = Path.GetDirectoryName(folder)!;
            if (!System.IO.Directory.Exists(parent)) System.IO.Directory.CreateDirectory(parent, ParentMode);
            System.IO.Directory.CreateDirectory(folder, FolderMode);
        }
        AtomicFile.WriteText(folder + "/" + BusId, JsonSerializer.Serialize(this, Json) + "\n", AtomicFile.OwnerOnly);
    }

    /// <summary>Removes the record of <paramref name="busId"/>; none there is no error.</summary>
    public static void Delete(SystemRoot root, string busId)
    {
        if (RecordField.UsbBusId("busId", busId) is null) AtomicFile.Delete(root.ResolveForWrite(Directory) + "/" + busId);
    }

    /// <summary>
    /// The record of <paramref name="busId"/> as written; null when there is none, or when it cannot be trusted: not
    /// ours to read, a symlink, too big, not JSON, a field that fails its check, or another bus id's. A reader shows
    /// no client rather than fail over a display-only fact.
    /// </summary>
    public static UsbIpHolderRecord? Read(SystemRoot root, string busId)
    {
        if (RecordField.UsbBusId("busId", busId) is not null) return null;
        try
        {
            // The folder confined to the root as for a write: a planted link must not make us read another tree's file.
            var text = AtomicFile.ReadText(root.ResolveForWrite(Directory) + "/" + busId, MaxFileBytes);
            var record = text is null ? null : JsonSerializer.Deserialize<UsbIpHolderRecord>(text, Json);
            return record is not null && record.BusId == busId && record.Problem() is null ? record : null;
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or IOException or UnauthorizedAccessException or VirtToolsException)
        {
            return null;
        }
    }

    /// <summary>
    /// The record while it still tells the truth: the device is in use (usbip_status 2) and the server that wrote it
    /// is alive (its PID names a process that started when the server did, so a reused PID does not count). Both,
    /// because each alone can lie: a server killed with -9 leaves its record while a stock usbipd may hand the device
    /// to someone else, and a live server only learns of a plain client's departure when it next looks
    /// (<c>ExportHolders</c> sweeps every few seconds). Not "newer than the last status change": sysfs gives no time
    /// for usbip_status, the kernel changes it without touching the file's mtime.
    /// </summary>
    public static UsbIpHolderRecord? ReadCurrent(SystemRoot root, string busId, UsbIpStatus? status) =>
        status == UsbIpStatus.InUse && Read(root, busId) is { } record && IsAlive(record) ? record : null;

    /// <summary>Whether the server that wrote the record still runs on this machine (the live /proc, not the root's: the server ran here).</summary>
    private static bool IsAlive(UsbIpHolderRecord record) => ProcessStartTime.Of(record.ServerPid) == record.ServerStartTime;

    /// <summary>The subject as the log shows it (control characters escaped), no longer than a record keeps.</summary>
    private static string Cut(string subject)
    {
        var escaped = UsbIpPeerText.Escape(subject, MaxSubjectLength);
        return escaped.Length <= MaxSubjectLength ? escaped : escaped[..MaxSubjectLength];
    }
}
