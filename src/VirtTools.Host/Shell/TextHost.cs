using System.Collections.ObjectModel;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Security;

namespace VirtTools.Host.Shell;

/// <summary>
/// A PowerShell host that renders to text writers: Out-Default tables, -WhatIf lines, warnings and progress.
/// The virttools executable gives it the console; tests give it string writers and scripted answers.
/// </summary>
public sealed class TextHost : PSHost
{
    private readonly TextUserInterface _ui;

    public TextHost(TextWriter output, TextWriter error, int width = 120, TextReader? input = null, bool isTerminal = false)
    {
        _ui = new TextUserInterface(output, error, width, input);
        IsTerminal = isTerminal;
    }

    /// <summary>The output is a terminal a person reads (not a pipe, a file or a test's writer).</summary>
    public bool IsTerminal { get; }

    public override string Name => "virttools";
    public override Version Version { get; } = typeof(TextHost).Assembly.GetName().Version ?? new Version(0, 0);
    public override Guid InstanceId { get; } = Guid.NewGuid();
    public override PSHostUserInterface UI => _ui;
    public override CultureInfo CurrentCulture => CultureInfo.InvariantCulture;
    public override CultureInfo CurrentUICulture => CultureInfo.GetCultureInfo("en-US");

    /// <summary>The exit code a script asked for with `exit N`, if any.</summary>
    public int? ExitCode { get; private set; }

    /// <summary>The answer PromptForChoice gives when there is no interactive input (tests script -Confirm).</summary>
    public int? ChoiceAnswer { get => _ui.ChoiceAnswer; set => _ui.ChoiceAnswer = value; }

    /// <summary>Every progress record written, in order.</summary>
    public IReadOnlyList<ProgressRecord> Progress => _ui.Progress;

    public override void SetShouldExit(int exitCode) => ExitCode = exitCode;
    public override void EnterNestedPrompt() => throw new NotSupportedException("virttools has no nested prompt.");
    public override void ExitNestedPrompt() => throw new NotSupportedException("virttools has no nested prompt.");
    public override void NotifyBeginApplication() { }
    public override void NotifyEndApplication() { }

    private sealed class TextUserInterface : PSHostUserInterface
    {
        private readonly TextWriter _output;
        private readonly TextWriter _error;
        private readonly TextReader? _input;
        private readonly TextRawUserInterface _raw;
        private readonly List<ProgressRecord> _progress = new();

        public TextUserInterface(TextWriter output, TextWriter error, int width, TextReader? input)
        {
            _output = output; _error = error; _input = input;
            _raw = new TextRawUserInterface(width);
        }

        public int? ChoiceAnswer { get; set; }
        public IReadOnlyList<ProgressRecord> Progress { get { lock (_progress) return _progress.ToArray(); } }
        public override PSHostRawUserInterface RawUI => _raw;

        // Formatting emits ANSI styles even for redirected output; plain text is what logs and tests want.
        private static string Plain(string value) => GetOutputString(value, supportsVirtualTerminal: false);

        public override void Write(string value) => _output.Write(Plain(value));
        public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) => Write(value);
        public override void WriteLine(string value) => _output.WriteLine(Plain(value));
        public override void WriteErrorLine(string value) => _error.WriteLine(Plain(value));
        public override void WriteDebugLine(string message) => _error.WriteLine("DEBUG: " + Plain(message));
        public override void WriteVerboseLine(string message) => _error.WriteLine("VERBOSE: " + Plain(message));
        public override void WriteWarningLine(string message) => _error.WriteLine("WARNING: " + Plain(message));
        public override void WriteProgress(long sourceId, ProgressRecord record) { lock (_progress) _progress.Add(record); }

        public override string ReadLine() => _input?.ReadLine() ?? throw NonInteractive("read a line");
        public override SecureString ReadLineAsSecureString() => throw NonInteractive("read a secret");

        public override Dictionary<string, PSObject> Prompt(string caption, string message, Collection<FieldDescription> descriptions) =>
            throw NonInteractive("prompt for " + string.Join(", ", descriptions.Select(d => d.Name)));

        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) =>
            throw NonInteractive("prompt for a credential");

        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName,
            PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) => throw NonInteractive("prompt for a credential");

        public override int PromptForChoice(string caption, string message, Collection<ChoiceDescription> choices, int defaultChoice)
        {
            if (ChoiceAnswer is int scripted) return scripted;
            if (_input is null) throw NonInteractive($"ask \"{message}\"");
            _output.WriteLine(caption);
            _output.WriteLine(message);
            var labels = choices.Select(c => c.Label.Replace("&", "")).ToArray();
            while (true)
            {
                _output.Write(string.Join("  ", labels.Select((l, i) => $"[{l[0]}] {l}")) + $" (default is \"{labels[defaultChoice][0]}\"): ");
                var answer = _input.ReadLine();
                if (answer is null) return defaultChoice;
                if (answer.Trim().Length == 0) return defaultChoice;
                for (int i = 0; i < labels.Length; i++)
                    if (string.Equals(labels[i], answer.Trim(), StringComparison.OrdinalIgnoreCase)
                        || char.ToUpperInvariant(labels[i][0]) == char.ToUpperInvariant(answer.Trim()[0])) return i;
            }
        }

        private static PSInvalidOperationException NonInteractive(string what) =>
            new($"virttools is running non-interactively and cannot {what}. Pass -Confirm:$false or -Force to proceed without a prompt.");
    }

    private sealed class TextRawUserInterface : PSHostRawUserInterface
    {
        private readonly Size _size;
        public TextRawUserInterface(int width) => _size = new Size(width, 9999);

        public override ConsoleColor ForegroundColor { get; set; } = ConsoleColor.Gray;
        public override ConsoleColor BackgroundColor { get; set; } = ConsoleColor.Black;
        public override Coordinates CursorPosition { get; set; }
        public override Coordinates WindowPosition { get; set; }
        public override int CursorSize { get; set; }
        public override Size BufferSize { get => _size; set { } }
        public override Size WindowSize { get => new(_size.Width, 50); set { } }
        public override Size MaxWindowSize => WindowSize;
        public override Size MaxPhysicalWindowSize => WindowSize;
        public override bool KeyAvailable => false;
        public override string WindowTitle { get; set; } = "virttools";
        public override KeyInfo ReadKey(ReadKeyOptions options) => throw new NotSupportedException("virttools does not read keys.");
        public override void FlushInputBuffer() { }
        public override void SetBufferContents(Coordinates origin, BufferCell[,] contents) { }
        public override void SetBufferContents(Rectangle rectangle, BufferCell fill) { }
        public override BufferCell[,] GetBufferContents(Rectangle rectangle) => new BufferCell[0, 0];
        public override void ScrollBufferContents(Rectangle source, Coordinates destination, Rectangle clip, BufferCell fill) { }
    }
}
