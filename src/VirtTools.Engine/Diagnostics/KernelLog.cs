using System.Text;
using VirtTools.State;
using VirtTools.Sysfs;

namespace VirtTools.Diagnostics;

/// <summary>
/// The kernel's own log, read from /dev/kmsg under the root: what a driver said while we wrote to sysfs, or what the
/// kernel said at boot. /dev/kmsg gives one record per read(2) ("6,1234,5678,-;vfio-pci 0000:05:00.0: ..." and its
/// " KEY=value" lines), every opener has its own position, lseek(SEEK_END) skips what was logged before, and opened
/// non-blocking a read at the end fails with EAGAIN instead of waiting. A test root carries dev/kmsg as a text file
/// in the same format; lines appended after the mark are the new records.
/// </summary>
public sealed class KernelLog : IDisposable
{
    public const string DevicePath = "/dev/kmsg";

    // A record with its dictionary is at most 8 KiB (PRINTK_MESSAGE_MAX plus the prefix); a smaller buffer is EINVAL.
    private const int ReadBufferBytes = 16 * 1024;

    private readonly int _fd;
    private readonly StringBuilder _pending = new();
    private string? _current;
    private bool _ended;

    private KernelLog(int fd) => _fd = fd;

    /// <summary>
    /// Opens the log positioned after everything logged so far, before an operation whose kernel messages are wanted.
    /// Null when the root has no log or it is not readable (dmesg_restrict without CAP_SYSLOG): evidence is optional.
    /// </summary>
    public static KernelLog? OpenAtEnd(SystemRoot root) => Open(root, atEnd: true);

    /// <summary>Opens the log at its oldest record still in the ring buffer (boot messages on a host up for a short while).</summary>
    public static KernelLog? OpenAtStart(SystemRoot root) => Open(root, atEnd: false);

    private static KernelLog? Open(SystemRoot root, bool atEnd)
    {
        var path = root.Resolve(DevicePath);
        if (!root.IsLive && !File.Exists(path)) return null;
        int fd = Libc.Open(path, Libc.ORdOnly | Libc.ONonBlock | Libc.OCloexec, 0);
        if (fd < 0) return null;
        if (atEnd && Libc.Seek(fd, 0, Libc.SeekEnd) < 0)
        {
            Libc.Close(fd);
            return null;
        }
        return new KernelLog(fd);
    }

    /// <summary>
    /// The records from the position on, oldest first, at most <paramref name="maxRecords"/> and about
    /// <paramref name="maxBytes"/> of text: a busy or hostile log cannot make the caller read without end.
    /// </summary>
    public IEnumerable<KernelLogRecord> Records(int maxRecords, long maxBytes)
    {
        long bytes = 0;
        for (int count = 0; count < maxRecords && bytes < maxBytes;)
        {
            var line = NextLine();
            if (line is null) yield break;
            bytes += line.Length;
            if (KernelLogRecord.Parse(line) is { } record)
            {
                count++;
                yield return record;
            }
        }
    }

    /// <summary>
    /// The kernel's own lines about <paramref name="deviceName"/> from the log's position on (" The kernel said:
    /// ..."), to end an error message with; empty without a log or a line about it. Bounded: a flood of unrelated
    /// messages costs at most a few hundred records, and at most the last few lines are quoted.
    /// </summary>
    public static string Quote(KernelLog? log, string deviceName)
    {
        if (log is null) return "";
        var lines = log.Records(QuotedRecordsRead, QuotedBytesRead).Where(r => r.Mentions(deviceName))
            .Select(r => r.Message.Length > QuotedLineChars ? r.Message[..QuotedLineChars] + "..." : r.Message)
            .TakeLast(QuotedLines).ToList();
        return lines.Count == 0 ? "" : $" The kernel said: {string.Join(" | ", lines)}.";
    }

    private const int QuotedRecordsRead = 512, QuotedBytesRead = 256 * 1024, QuotedLines = 8, QuotedLineChars = 300;

    /// <summary>One record: its line and the " KEY=value" lines that follow it, joined by '\n'; null at the end.</summary>
    private string? NextLine()
    {
        while (true)
        {
            var line = TakeLine();
            if (line is null)
            {
                var last = _current;
                _current = null;
                return last;
            }
            if (line.StartsWith(' ') && _current is not null)
            {
                _current += "\n" + line;
                continue;
            }
            var whole = _current;
            _current = line;
            if (whole is not null) return whole;
        }
    }

    private string? TakeLine()
    {
        while (true)
        {
            for (int i = 0; i < _pending.Length; i++)
            {
                if (_pending[i] != '\n') continue;
                var line = _pending.ToString(0, i);
                _pending.Remove(0, i + 1);
                return line;
            }
            if (_ended || !Fill())
            {
                _ended = true;
                if (_pending.Length == 0) return null;
                var rest = _pending.ToString();
                _pending.Clear();
                return rest;
            }
        }
    }

    private unsafe bool Fill()
    {
        var buffer = new byte[ReadBufferBytes];
        while (true)
        {
            nint n;
            fixed (byte* p = buffer) n = Libc.Read(_fd, p, buffer.Length);
            if (n > 0)
            {
                _pending.Append(Encoding.UTF8.GetString(buffer, 0, (int)n));
                return true;
            }
            if (n == 0) return false;
            int errno = Libc.LastError;
            // EPIPE: records were overwritten before we read them; the next read goes on from the oldest one left.
            if (errno is Libc.EINTR or Libc.EPIPE) continue;
            return false; // EAGAIN: nothing more logged yet
        }
    }

    public void Dispose() => Libc.Close(_fd);
}
